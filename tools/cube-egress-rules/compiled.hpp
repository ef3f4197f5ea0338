// cube::egress compiled — a validated policy in the form every enforcer loads: `check`, the
// nftables rendering (address sets), the DNS relay (names to learn) and the proxy (the matcher).
//
// Contract:
// - compile() runs every check that needs the whole policy, so a policy that compiles is valid:
//   targets (allowOut, denyOut, each rule's sni and host), unique rule names, the allowOut-domain
//   rule (a domain in allowOut needs allowInternetAccess=false or "0.0.0.0/0" in denyOut), DNS
//   servers, and upstream's limits on unique entries — allow (plain, L7 and resolver addresses)
//   8192, DNS names 1024, deny 8192 — with upstream's message naming the field.
// - allow is allow_out_v2: unique CIDRs, each with the reasons it is there (flags). deny is the
//   user's denyOut plus the always-denied private ranges, or only 0.0.0.0/0 when
//   allowInternetAccess is false (the user's denyOut is then ignored, with a warning).
// - DNS (#526 with #490): when the policy names any domain, in allowOut or as an L7 sni/host, its
//   resolvers (dnsServers, else [egress] dns_servers) are allowed as /32s; IPv6 resolvers are
//   skipped with a warning. Without domains nothing is added, so with internet disabled DNS stays
//   blocked.
#pragma once

#include "matcher.hpp"
#include "policy.hpp"
#include "targets.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_allow = 8192;
inline constexpr size_t k_max_dns_names = 1024;
inline constexpr size_t k_max_deny = 8192;

// Why an address is in the allow set (bits; one CIDR may have several).
enum AllowFlag : uint8_t { allow_out = 1, l7_target = 2, dns_server = 4 };
struct AllowEntry {
  Cidr cidr;
  uint8_t flags = 0;
};

enum class DenyKind : uint8_t { deny_out, private_range, internet_disabled };
struct DenyEntry {
  Cidr cidr;
  DenyKind kind;
};

struct CompileOptions {
  std::vector<std::string> dns_servers;  // [egress] dns_servers: used when the policy names none
};

struct CompiledPolicy {
  bool internet = true;       // allowInternetAccess (absent: true)
  bool l7 = false;            // it has rules: its TCP 80 and 443 go through the proxy
  bool dns_learning = false;  // it names a domain: resolvers allowed, answers learned
  std::vector<AllowEntry> allow;
  std::vector<DenyEntry> deny;
  std::vector<NamePattern> allow_domains;  // allowOut names, unique, in order
  std::vector<NamePattern> l7_names;       // the rules' sni and host names, unique, in order
  std::vector<Cidr> l7_addresses;          // the rules' host addresses and CIDRs
  std::vector<uint32_t> resolvers;
  std::vector<std::string> warnings;

  // Lookups over the lists above; values are indexes into them.
  CidrSet allow_set, deny_set, l7_address_set;
  NameTrie allow_domain_trie, l7_name_trie;
  Matcher matcher;

  size_t dns_name_count = 0;  // unique names in allow_domains and l7_names together
};

CompiledPolicy compile(const Policy& p, const CompileOptions& options = {});

// The always-denied private ranges: 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16.
const std::vector<Cidr>& private_ranges();

}  // namespace cube::egress
