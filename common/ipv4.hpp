// cube::ipv4 — IPv4 addresses, prefixes and MAC addresses as plain values, parsed and printed in one
// place for the network tools. Addresses are held in host byte order.
//
// Contract: parse_* return nullopt on anything that is not the exact dotted-quad / a.b.c.d/N /
// aa:bb:cc:dd:ee:ff form (no leading zeros tricks like "010.1.1.1", no spaces); the caller turns
// that into an Error naming its flag or key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::ipv4 {

struct Prefix {
  uint32_t address = 0;  // host byte order
  int length = 32;
  bool operator==(const Prefix&) const = default;
};

using Mac = std::array<uint8_t, 6>;

std::optional<uint32_t> parse_address(std::string_view text);
std::optional<Prefix> parse_prefix(std::string_view text);
std::optional<Mac> parse_mac(std::string_view text);

std::string format(uint32_t address);
std::string format(const Prefix& p);
std::string format_mac(const Mac& mac);

// The netmask of a prefix length (0..32).
inline uint32_t mask(int length) { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }

}  // namespace cube::ipv4
