// datapath-flood: the world side of the data-path throughput bench (tests/bench/datapath). Sends
// TCP ACK segments of a few established-looking flows to a mapped host port, as fast as one
// sendmmsg loop on a packet socket can, for a number of seconds; prints how many it sent.
//
//   datapath-flood DEV DST_MAC SRC_IP DST_IP DST_PORT SECONDS [FLOWS]
//
// Frames are built once with every checksum right (conntrack checks them on the DNAT path) and
// cycled; the flows differ in their source port only. The packet socket bypasses the world's qdisc,
// so what is measured is the node, not the sender's queueing.
#include "fd.hpp"
#include "packets.hpp"

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace cube::test;

namespace {

constexpr int k_batch = 64;

Mac parse_mac(const char* text) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    std::fprintf(stderr, "datapath-flood: bad MAC %s\n", text);
    std::exit(2);
  }
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: datapath-flood DEV DST_MAC SRC_IP DST_IP DST_PORT SECONDS [FLOWS]\n");
    return 2;
  }
  int ifindex = static_cast<int>(if_nametoindex(argv[1]));
  double seconds = std::atof(argv[6]);
  int flows = argc > 7 ? std::atoi(argv[7]) : 16;
  cube::Fd sock(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!ifindex || !sock || setsockopt(sock.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) {
    std::perror("datapath-flood: packet socket");
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;

  std::vector<Bytes> frames;
  for (int i = 0; i < flows; ++i) {
    Frame f;
    f.dst = parse_mac(argv[2]);
    f.src = {0x02, 0, 0, 0, 0, 0x77};
    f.saddr = ip(argv[3]), f.daddr = ip(argv[4]);
    f.sport = static_cast<uint16_t>(40000 + i), f.dport = static_cast<uint16_t>(std::atoi(argv[5]));
    f.tcp_flags = k_ack;
    f.payload = Bytes(6, 0);  // a minimum-size Ethernet frame
    frames.push_back(build(f));
  }
  iovec iov[k_batch];
  mmsghdr msgs[k_batch]{};
  for (int i = 0; i < k_batch; ++i) {
    Bytes& b = frames[static_cast<size_t>(i % flows)];
    iov[i] = {b.data(), b.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
  }
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t sent = 0;
  while (std::chrono::steady_clock::now() < end) {
    int n = sendmmsg(sock.get(), msgs, k_batch, 0);
    if (n > 0) sent += static_cast<uint64_t>(n);
  }
  std::printf("%llu\n", static_cast<unsigned long long>(sent));
}
