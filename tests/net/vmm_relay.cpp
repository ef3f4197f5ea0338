// vmm-relay: plays a VMM's network backend for the data-path tests, so that real tools (ping,
// curl, servers) run on both sides of a sandbox TAP without a VM.
//
//   vmm-relay --guest-netns PATH --guest-tap NAME [--tap NAME]
//
// The host side is a sandbox TAP: fd 3 when CUBE_TAP_FD is set (as `cube-tap get-fd --exec`
// leaves it), else the persistent TAP --tap NAME, attached as a VMM would (TUNSETIFF). The guest
// side is a new TAP inside the network namespace PATH, which the test configures as a guest kernel
// configures its eth0. Frames are copied both ways with their virtio-net headers, so checksum and
// segmentation offloads cross the relay as they cross a real virtio-net device. Prints "ready"
// on stdout once both sides are open; runs until SIGTERM or until the host TAP goes away.
#include "fd.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int k_vnet_hdr_size = 12;  // virtio_net_hdr_v1, as cube-tap sets it
constexpr size_t k_frame_max = 65536 + k_vnet_hdr_size;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "vmm-relay: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

cube::Fd open_tap(const std::string& name) {
  cube::Fd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) die("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  int hdr = k_vnet_hdr_size;
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) die("TUNSETIFF " + name);
  if (ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0) die("TUNSETVNETHDRSZ " + name);
  // What a virtio-net guest negotiates: it takes partial checksums and TSO frames.
  if (ioctl(fd.get(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) die("TUNSETOFFLOAD " + name);
  return fd;
}

// Copies one frame; false when the source has gone (the TAP was deleted).
bool relay_one(int from, int to, std::vector<char>& buf) {
  ssize_t n = read(from, buf.data(), buf.size());
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  // A full queue on the other side drops the frame, as a NIC would.
  if (write(to, buf.data(), static_cast<size_t>(n)) < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EIO)
    return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string netns, guest_tap, host_tap;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--guest-netns")
      netns = argv[i + 1];
    else if (flag == "--guest-tap")
      guest_tap = argv[i + 1];
    else if (flag == "--tap")
      host_tap = argv[i + 1];
  }
  if (netns.empty() || guest_tap.empty() || (host_tap.empty() && !std::getenv("CUBE_TAP_FD"))) {
    std::fprintf(stderr, "usage: vmm-relay --guest-netns PATH --guest-tap NAME [--tap NAME] (or CUBE_TAP_FD)\n");
    return 2;
  }
  cube::Fd host = host_tap.empty() ? cube::Fd(std::atoi(std::getenv("CUBE_TAP_FD"))) : open_tap(host_tap);
  cube::Fd ns(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns || setns(ns.get(), CLONE_NEWNET) < 0) die("entering " + netns);
  cube::Fd guest = open_tap(guest_tap);

  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<char> buf(k_frame_max);
  pollfd fds[2] = {{host.get(), POLLIN, 0}, {guest.get(), POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return 0;
    if ((fds[0].revents & POLLIN) && !relay_one(host.get(), guest.get(), buf)) return 0;
    if ((fds[1].revents & POLLIN) && !relay_one(guest.get(), host.get(), buf)) return 0;
  }
}
