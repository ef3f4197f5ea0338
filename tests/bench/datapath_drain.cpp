// datapath-drain: the VMM side of the data-path throughput bench (tests/bench/datapath). Attaches
// to a sandbox TAP as a VMM would and reads frames off it as fast as it can, doing nothing else,
// so that the guest side is never what limits the rate. Prints "ready" once attached and, on
// SIGTERM or SIGINT, the number of frames it read.
//
//   datapath-drain TAP
#include "fd.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

void stop(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: datapath-drain TAP\n");
    return 2;
  }
  cube::Fd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
  if (!fd || ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    std::fprintf(stderr, "datapath-drain: attaching to %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  // No SA_RESTART: the signal ends the blocking read.
  struct sigaction sa {};
  sa.sa_handler = stop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<char> buf(65536 + 64);
  unsigned long long frames = 0;
  while (!g_stop)
    if (read(fd.get(), buf.data(), buf.size()) > 0) ++frames;
  std::printf("%llu\n", frames);
}
