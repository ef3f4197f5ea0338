// cube::egress targets — the addresses and names a policy names, parsed once and normalised.
//
// Contract (doc/cube-egress-rules.md "Targets"):
// - IPv4 only, strict dotted quad (four decimal parts 0-255, no leading zeros). A CIDR is masked
//   to its network ("10.1.2.3/8" is 10.0.0.0/8); a plain address is a /32.
// - A DNS name is lower-cased, one trailing dot removed, may start with one "*." (strict
//   subdomains only, never the apex), has labels of 1-63 bytes of [a-z0-9-] that neither start nor
//   end with '-', and is shorter than 255 bytes in all.
// - allowOut entries split into addresses and names; anything else is an error naming the field
//   with upstream's words: "empty target", "invalid allow_out CIDR target", "unsupported
//   allow_out IP target" (IPv6, or digits and dots that are no address), "invalid allow_out
//   domain target". Errors are Error(usage) and quote at most 80 bytes of the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::egress {

struct Cidr {
  uint32_t network = 0;  // host order, masked
  uint8_t prefix = 32;

  static uint32_t mask(uint8_t prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(uint32_t addr) const { return (addr & mask(prefix)) == network; }
  bool operator==(const Cidr&) const = default;
  // "a.b.c.d/n", or "a.b.c.d" for a /32.
  std::string text() const;
};

std::optional<uint32_t> parse_ipv4(std::string_view text);
// "a.b.c.d" or "a.b.c.d/n" (0-32), masked.
std::optional<Cidr> parse_cidr(std::string_view text);
std::string ipv4_text(uint32_t addr);

// A normalised name pattern: `name` without the "*." of a wildcard.
struct NamePattern {
  std::string name;
  bool wildcard = false;
  bool operator==(const NamePattern&) const = default;
  std::string text() const { return wildcard ? "*." + name : name; }
  // `host` must be normalised (normalize_name).
  bool matches(std::string_view host) const;
};

// A name as a request carries it: lower-cased, one trailing dot removed.
std::string normalize_name(std::string_view name);
// The label rules above; nullopt when `text` (already trimmed) is not a name.
std::optional<NamePattern> parse_name_pattern(std::string_view text);

struct Target {
  enum class Kind { address, name } kind;
  Cidr cidr;
  NamePattern name;
};

// An allowOut entry. `field` names it in errors ("allowOut[3]").
Target parse_allow_target(std::string_view text, std::string_view field);
// A denyOut entry: an address or CIDR only (deny is enforced by address).
Cidr parse_deny_target(std::string_view text, std::string_view field);
// A rule's match.sni: a name or wildcard, never an address.
NamePattern parse_sni_target(std::string_view text, std::string_view field);
// A rule's match.host with any ":port" removed: an address, CIDR or name. IPv6 and digits-and-dots
// that are no address are no target (upstream drops them): nullopt.
std::optional<Target> parse_host_target(std::string_view text, std::string_view field);
// match.host as the matcher compares it: trimmed, ":port" removed, lower-cased, no trailing dot.
std::string host_pattern_text(std::string_view text);

// Text for an error message: at most 80 bytes.
std::string excerpt(std::string_view text);

}  // namespace cube::egress
