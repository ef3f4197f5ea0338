#include "ipam.hpp"

#include "error.hpp"

#include <fmt/format.h>

namespace cube::tap {

std::optional<uint32_t> Cidr::index_of(uint32_t address) const {
  if (!contains(address)) return std::nullopt;
  uint32_t index = address - prefix.address;
  if (index < first_index() || index > last_index()) return std::nullopt;
  return index;
}

Cidr parse_cidr(std::string_view text, std::string_view what) {
  std::string shown(text.substr(0, 64));
  auto p = ipv4::parse_prefix(text);
  if (!p)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, shown), "expected an IPv4 CIDR like 192.168.0.0/18");
  if (p->length < k_min_prefix || p->length > k_max_prefix)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, shown),
                fmt::format("the prefix must be /{} to /{}", k_min_prefix, k_max_prefix));
  if ((p->address & ~ipv4::mask(p->length)) != 0)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, shown), "host bits are set",
                fmt::format("did you mean {}?", ipv4::format({p->address & ipv4::mask(p->length), p->length})));
  return Cidr{*p};
}

std::optional<uint32_t> next_index(const Cidr& cidr, uint32_t cursor, const OpenScan& used) {
  return next_fit(cidr.first_index(), cidr.last_index(), cursor, used);
}

std::string tap_name(uint32_t address) { return fmt::format("z{:08x}", address); }

std::optional<uint32_t> tap_address(std::string_view name) {
  if (name.size() != 9 || name[0] != 'z') return std::nullopt;
  uint32_t v = 0;
  for (char c : name.substr(1)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  return v;
}

}  // namespace cube::tap
