// Crafted Ethernet frames for feeding the data-path programs through BPF_PROG_TEST_RUN, and the
// checks a receiver would make of what comes out (every checksum recomputed from scratch).
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cube::test {

using Mac = std::array<uint8_t, 6>;
using Bytes = std::vector<uint8_t>;

inline uint32_t ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a.s_addr;  // network byte order, as in the packet
}

enum TcpFlags : uint8_t { k_fin = 0x01, k_syn = 0x02, k_rst = 0x04, k_ack = 0x10 };

struct Frame {
  Mac dst{}, src{};
  uint16_t ethertype = 0x0800;
  uint32_t saddr = 0, daddr = 0;
  uint8_t proto = 6;
  uint16_t frag = 0;  // flags and offset as in the header (host order): 0x2000 = MF
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = k_ack;
  bool udp_zero_csum = false;
  uint8_t icmp_type = 8;
  Bytes payload;
};

// Builds the frame with every checksum right (the L4 checksum over the whole segment).
Bytes build(const Frame& f);
// An ARP request from `sha`/`spa` for `tpa`.
Bytes arp_request(const Mac& sha, uint32_t spa, uint32_t tpa);
// An ICMP error of `type`/`code` from `saddr` to `daddr`, quoting `quoted` (an IPv4 packet, without
// its Ethernet header).
Bytes icmp_error(const Mac& dst, const Mac& src, uint32_t saddr, uint32_t daddr, uint8_t type, uint8_t code,
                 const Bytes& quoted);

// Fields read back from an IPv4 frame.
struct Parsed {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
  Mac dst, src;
  uint16_t l4_csum;
};
Parsed parse(const Bytes& frame);

// The IPv4 header checksum is right; for an unfragmented packet, so is the TCP/UDP/ICMP one (a UDP
// checksum of zero counts as right: it means none).
bool checksums_ok(const Bytes& frame);

}  // namespace cube::test
