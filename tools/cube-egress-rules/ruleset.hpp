// cube::egress ruleset — the `inet cube_egress` table as nft-syntax text (doc/cube-egress-rules.md
// "Enforcement"). libnftables runs each text as one transaction, so a change is seen whole or not
// at all.
//
// Contract:
// - Shared objects (base_commands): sets l7_sources, dns_sources and private_ranges, the verdict map
//   sandboxes (address → goto a_<k>), chains forward and input (filter hooks, policy accept) that
//   send traffic from the sandbox CIDR to sandbox_out and sandbox_in, and default_out, the policy of
//   an address with no element. Every render re-creates them ("add" is idempotent) and refills their
//   rules, so a transaction of this module is complete on an empty or a damaged table.
// - Per address (k = the address in 8 lowercase hex digits): sets a_<k>_allow, a_<k>_deny (interval)
//   and a_<k>_learned (timeout; the DNS relay adds to it), chain a_<k> whose comment names its owner.
//   bind_commands replaces all of it in place; a_<k>_learned is emptied only when asked (the owner or
//   the names it learns for changed). unbind_commands removes it all, and the address falls back to
//   default_out. Neither fails when the objects are missing or already there, as long as a set that
//   is there has its definition; `redefine` names sets that are there with another one (changed by
//   hand), which are deleted first and made again.
// - The verdict order of a_<k> is the order `check` decides in (decision.hpp): allow, then learned,
//   then deny (TCP refused with a reset, the rest dropped), then accept.
// - *_lines() are the chains as `nft -t list table` prints them, for comparing with the kernel.
#pragma once

#include "bindings.hpp"
#include "compiled.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress::ruleset {

inline constexpr std::string_view k_table = "cube_egress";

struct Interval {
  uint32_t first = 0;
  uint32_t last = 0;
  bool operator==(const Interval&) const = default;
};
// Sorted, disjoint, touching ones joined: nft refuses overlapping elements in an interval set.
std::vector<Interval> merge(std::vector<Interval> in);
std::vector<Interval> intervals(const std::vector<Cidr>& cidrs);
// "a.b.c.d", "a.b.c.d/n" when it is a prefix, else "a.b.c.d-e.f.g.h".
std::string element_text(const Interval& i);

struct Ports {
  uint16_t proxy_http = 8080;
  uint16_t proxy_tls = 8443;
  uint16_t dns_relay = 8053;
};

struct Base {
  NodeNet net;
  Ports ports;
};

// Who an address's objects belong to, as the chain's comment records it.
struct Owner {
  std::string sandbox;
  int64_t revision = 0;
  std::string names;  // 8 hex digits of a digest of the names the policy learns for
  bool operator==(const Owner&) const = default;
};
std::string comment(const Owner& o);
std::optional<Owner> parse_comment(std::string_view text);

struct AddressPolicy {
  uint32_t address = 0;
  Owner owner;
  std::vector<Interval> allow, deny;
  bool l7 = false;
  bool dns_learning = false;
};
AddressPolicy address_policy(uint32_t address, const std::string& sandbox, int64_t revision, const CompiledPolicy& c);

std::string key(uint32_t address);         // c0a80002
std::string chain_name(uint32_t address);  // a_c0a80002
// The address of an a_<k> chain name; nullopt for any other name.
std::optional<uint32_t> chain_address(std::string_view name);

std::string base_commands(const Base& b);
std::string bind_commands(const AddressPolicy& p, bool flush_learned, const std::vector<std::string>& redefine = {});
std::string unbind_commands(uint32_t address, const std::vector<std::string>& redefine = {});
// What each of an address's own sets is made as, by set name (as kernel_table reads definitions).
std::map<std::string, std::string> address_set_definitions(uint32_t address);
// Empties l7_sources, dns_sources and sandboxes, before a render of every address.
std::string flush_shared_commands();
std::string teardown_commands();

// The shared chains, by name, and an address's chain (rules only, no comment).
std::map<std::string, std::vector<std::string>> base_lines(const Base& b);
std::vector<std::string> address_lines(uint32_t address);

}  // namespace cube::egress::ruleset
