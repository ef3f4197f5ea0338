// cube::tap IPAM — the sandbox address pool: an IPv4 CIDR of prefix /8 to /30 whose index 0
// (network), 1 (the node's gateway, on lo) and last (broadcast) are reserved. Addresses are handed
// out next-fit from a cursor, so the first is index 2 and a released address is not reused at once.
// TAP names are derived from addresses: 'z' + 8 hex digits, 9 characters, always under IFNAMSIZ.
#pragma once

#include "ipv4.hpp"
#include "next_fit.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::tap {

inline constexpr int k_min_prefix = 8;
inline constexpr int k_max_prefix = 30;

struct Cidr {
  ipv4::Prefix prefix;
  uint32_t size() const { return uint32_t{1} << (32 - prefix.length); }  // fits: length ≥ 8
  uint32_t first_index() const { return 2; }
  uint32_t last_index() const { return size() - 2; }
  uint32_t address(uint32_t index) const { return prefix.address + index; }
  uint32_t gateway() const { return address(1); }
  bool contains(uint32_t address) const { return (address & ipv4::mask(prefix.length)) == prefix.address; }
  // The index of an address inside the CIDR; nullopt when outside or reserved.
  std::optional<uint32_t> index_of(uint32_t address) const;
  std::string text() const { return ipv4::format(prefix); }
};

// Parses and checks a CIDR: IPv4, prefix /8 to /30, no host bits set. Throws Error(usage) naming
// `what` (the flag or key).
Cidr parse_cidr(std::string_view text, std::string_view what);

// The next address index after `cursor` (next-fit, wrapping) that no scan marks used.
std::optional<uint32_t> next_index(const Cidr& cidr, uint32_t cursor, const OpenScan& used);

std::string tap_name(uint32_t address);
// The address a TAP name stands for; nullopt when the name is not 'z' + 8 lowercase hex digits.
std::optional<uint32_t> tap_address(std::string_view name);

}  // namespace cube::tap
