#include "packets.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace cube::test {
namespace {

constexpr size_t k_eth = 14, k_ip = 20;

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
}
uint16_t get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
void put_addr(Bytes& b, size_t at, uint32_t a) { std::memcpy(&b[at], &a, 4); }
uint32_t get_addr(const Bytes& b, size_t at) {
  uint32_t a;
  std::memcpy(&a, &b[at], 4);
  return a;
}

uint32_t sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += static_cast<uint32_t>(p[n - 1] << 8);
  return acc;
}
uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc & 0xffff);
}
uint32_t pseudo(const Bytes& b, size_t ip_at, uint8_t proto, size_t l4_len) {
  return sum(&b[ip_at + 12], 8) + proto + static_cast<uint32_t>(l4_len);
}

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, size_t body) {
  Bytes b(k_eth + body);
  std::memcpy(&b[0], dst.data(), 6);
  std::memcpy(&b[6], src.data(), 6);
  put16(b, 12, type);
  return b;
}

void ip_header(Bytes& b, uint8_t proto, uint16_t frag, uint32_t saddr, uint32_t daddr) {
  size_t total = b.size() - k_eth;
  b[k_eth] = 0x45;
  put16(b, k_eth + 2, static_cast<uint16_t>(total));
  put16(b, k_eth + 6, frag);
  b[k_eth + 8] = 64;
  b[k_eth + 9] = proto;
  put_addr(b, k_eth + 12, saddr);
  put_addr(b, k_eth + 16, daddr);
  put16(b, k_eth + 10, fold(sum(&b[k_eth], k_ip)));
}

size_t l4_header_len(uint8_t proto) { return proto == 6 ? 20 : 8; }
size_t csum_at(uint8_t proto) { return proto == 6 ? 16 : proto == 17 ? 6 : 2; }

}  // namespace

Bytes build(const Frame& f) {
  size_t l4 = l4_header_len(f.proto) + f.payload.size();
  Bytes b = ethernet(f.dst, f.src, f.ethertype, k_ip + l4);
  size_t at = k_eth + k_ip;
  std::copy(f.payload.begin(), f.payload.end(), b.begin() + static_cast<std::ptrdiff_t>(at + l4_header_len(f.proto)));
  if (f.proto == 6) {
    put16(b, at, f.sport);
    put16(b, at + 2, f.dport);
    put16(b, at + 4, 1);  // seq
    b[at + 12] = 5 << 4;
    b[at + 13] = f.tcp_flags;
    put16(b, at + 14, 65535);
  } else if (f.proto == 17) {
    put16(b, at, f.sport);
    put16(b, at + 2, f.dport);
    put16(b, at + 4, static_cast<uint16_t>(l4));
  } else {
    b[at] = f.icmp_type;
    put16(b, at + 4, f.sport);  // echo identifier
  }
  ip_header(b, f.proto, f.frag, f.saddr, f.daddr);
  uint32_t acc = f.proto == 1 ? 0 : pseudo(b, k_eth, f.proto, l4);
  uint16_t c = fold(sum(&b[at], l4, acc));
  if (f.proto == 17 && c == 0) c = 0xffff;
  if (!(f.proto == 17 && f.udp_zero_csum)) put16(b, at + csum_at(f.proto), c);
  return b;
}

Bytes arp_request(const Mac& sha, uint32_t spa, uint32_t tpa) {
  Bytes b = ethernet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, sha, 0x0806, 28);
  put16(b, k_eth, 1);
  put16(b, k_eth + 2, 0x0800);
  b[k_eth + 4] = 6;
  b[k_eth + 5] = 4;
  put16(b, k_eth + 6, 1);
  std::memcpy(&b[k_eth + 8], sha.data(), 6);
  put_addr(b, k_eth + 14, spa);
  put_addr(b, k_eth + 24, tpa);
  return b;
}

Bytes icmp_error(const Mac& dst, const Mac& src, uint32_t saddr, uint32_t daddr, uint8_t type, uint8_t code,
                 const Bytes& quoted) {
  Bytes b = ethernet(dst, src, 0x0800, k_ip + 8 + quoted.size());
  size_t at = k_eth + k_ip;
  b[at] = type;
  b[at + 1] = code;
  std::copy(quoted.begin(), quoted.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 8));
  ip_header(b, 1, 0, saddr, daddr);
  put16(b, at + 2, fold(sum(&b[at], 8 + quoted.size())));
  return b;
}

Parsed parse(const Bytes& b) {
  Parsed p{};
  std::memcpy(p.dst.data(), &b[0], 6);
  std::memcpy(p.src.data(), &b[6], 6);
  p.saddr = get_addr(b, k_eth + 12);
  p.daddr = get_addr(b, k_eth + 16);
  size_t at = k_eth + (b[k_eth] & 0xf) * 4;
  uint8_t proto = b[k_eth + 9];
  if (b.size() >= at + 8) {
    p.sport = get16(b, at);
    p.dport = get16(b, at + 2);
    p.l4_csum = get16(b, at + csum_at(proto));
  }
  return p;
}

bool checksums_ok(const Bytes& b) {
  size_t ihl = (b[k_eth] & 0xf) * 4;
  if (fold(sum(&b[k_eth], ihl)) != 0) return false;
  if (get16(b, k_eth + 6) & 0x3fff) return true;  // a fragment: its L4 checksum spans the others
  uint8_t proto = b[k_eth + 9];
  size_t at = k_eth + ihl, len = b.size() - at;
  if (proto == 17 && get16(b, at + 6) == 0) return true;
  uint32_t acc = proto == 1 ? 0 : pseudo(b, k_eth, proto, len);
  return fold(sum(&b[at], len, acc)) == 0;
}

}  // namespace cube::test
