#include "compiled.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>

namespace cube::egress {
namespace {

[[noreturn]] void too_many(std::string_view field, std::string_view name, size_t got, size_t max) {
  throw Error(Exit::usage, fmt::format("{}: {} exceeds maximum entries: got {}, max {}", field, name, got, max));
}

class Builder {
 public:
  explicit Builder(CompiledPolicy& c) : m_c(c) {}

  void allow(Cidr cidr, uint8_t flag) {
    auto [it, added] = m_allow.try_emplace(uint64_t{cidr.network} << 8 | cidr.prefix, m_c.allow.size());
    if (added)
      m_c.allow.push_back({cidr, flag});
    else
      m_c.allow[it->second].flags |= flag;
  }
  void name(std::vector<NamePattern>& list, NamePattern p) {
    if (m_all_names.insert(p.text()).second) ++m_c.dns_name_count;
    if (std::find(list.begin(), list.end(), p) == list.end()) list.push_back(std::move(p));
  }

 private:
  CompiledPolicy& m_c;
  std::unordered_map<uint64_t, size_t> m_allow;
  std::set<std::string> m_all_names;
};

void compile_rules(const Policy& p, CompiledPolicy& c, Builder& b) {
  std::unordered_map<std::string_view, size_t> names;
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    std::string where = rule_label(i, r.name);
    if (auto [it, added] = names.try_emplace(r.name, i); !added)
      throw Error(Exit::usage, fmt::format("{}: name: the same as rules[{}]", where, it->second),
                  "rule names are unique in a policy");
    if (r.match.sni) b.name(c.l7_names, parse_sni_target(*r.match.sni, where + ": match.sni"));
    if (!r.match.host) continue;
    auto t = parse_host_target(*r.match.host, where + ": match.host");
    if (t && t->kind == Target::Kind::address) {
      if (std::find(c.l7_addresses.begin(), c.l7_addresses.end(), t->cidr) == c.l7_addresses.end())
        c.l7_addresses.push_back(t->cidr);
    } else if (t) {
      b.name(c.l7_names, std::move(t->name));
    }
  }
}

// A domain in allowOut is only enforced when the rest is closed (upstream's template check).
void check_domains_closed(const Policy& p, size_t first_domain) {
  if (p.allow_internet_access == false) return;
  auto open = std::none_of(p.deny_out.begin(), p.deny_out.end(), [](const std::string& d) { return d == "0.0.0.0/0"; });
  if (!open) return;
  throw Error(Exit::usage,
              fmt::format("allowOut[{}]: when specifying allowed domains in allow_out, you must disable public "
                          "outbound traffic or include '0.0.0.0/0' in deny_out",
                          first_domain),
              "set \"allowInternetAccess\": false, or add \"0.0.0.0/0\" to denyOut");
}

void compile_allow_out(const Policy& p, CompiledPolicy& c, Builder& b) {
  std::optional<size_t> first_domain;
  for (size_t i = 0; i < p.allow_out.size(); ++i) {
    Target t = parse_allow_target(p.allow_out[i], fmt::format("allowOut[{}]", i));
    if (t.kind == Target::Kind::address) {
      b.allow(t.cidr, AllowFlag::allow_out);
      continue;
    }
    if (!first_domain) first_domain = i;
    b.name(c.allow_domains, std::move(t.name));
  }
  if (first_domain) check_domains_closed(p, *first_domain);
}

void compile_deny(const Policy& p, CompiledPolicy& c) {
  std::vector<Cidr> user;
  for (size_t i = 0; i < p.deny_out.size(); ++i)
    user.push_back(parse_deny_target(p.deny_out[i], fmt::format("denyOut[{}]", i)));
  if (!c.internet) {
    if (!user.empty())
      c.warnings.push_back("denyOut is ignored: with allowInternetAccess false everything not allowed is denied");
    c.deny.push_back({Cidr{0, 0}, DenyKind::internet_disabled});
    return;
  }
  for (const Cidr& d : user)
    if (std::none_of(c.deny.begin(), c.deny.end(), [&](const DenyEntry& e) { return e.cidr == d; }))
      c.deny.push_back({d, DenyKind::deny_out});
  for (const Cidr& d : private_ranges())
    if (std::none_of(c.deny.begin(), c.deny.end(), [&](const DenyEntry& e) { return e.cidr == d; }))
      c.deny.push_back({d, DenyKind::private_range});
}

void compile_resolvers(const Policy& p, const CompileOptions& o, CompiledPolicy& c, Builder& b) {
  bool from_policy = !p.dns_servers.empty();
  const auto& servers = from_policy ? p.dns_servers : o.dns_servers;
  std::vector<uint32_t> found;
  for (size_t i = 0; i < servers.size(); ++i) {
    std::string field = from_policy ? fmt::format("dnsServers[{}]", i) : fmt::format("[egress] dns_servers[{}]", i);
    if (auto a = parse_ipv4(servers[i]))
      found.push_back(*a);
    else if (servers[i].find(':') != std::string::npos)
      c.warnings.push_back(fmt::format("{}: IPv6 resolver {} skipped (IPv4 only)", field, excerpt(servers[i])));
    else
      throw Error(Exit::usage, fmt::format("{}: not an IPv4 address: {}", field, excerpt(servers[i])));
  }
  if (!c.dns_learning) return;
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  for (uint32_t a : found) b.allow(Cidr{a, 32}, AllowFlag::dns_server);
  c.resolvers = std::move(found);
}

void build_lookups(const Policy& p, CompiledPolicy& c) {
  for (uint32_t i = 0; i < c.allow.size(); ++i) c.allow_set.add(c.allow[i].cidr, i);
  for (uint32_t i = 0; i < c.deny.size(); ++i) c.deny_set.add(c.deny[i].cidr, i);
  for (uint32_t i = 0; i < c.l7_addresses.size(); ++i) c.l7_address_set.add(c.l7_addresses[i], i);
  for (uint32_t i = 0; i < c.allow_domains.size(); ++i) c.allow_domain_trie.add(c.allow_domains[i], i);
  for (uint32_t i = 0; i < c.l7_names.size(); ++i) c.l7_name_trie.add(c.l7_names[i], i);
  for (auto* s : {&c.allow_set, &c.deny_set, &c.l7_address_set}) s->finish();
  c.allow_domain_trie.finish();
  c.l7_name_trie.finish();
  c.matcher = Matcher(p.rules);
}

}  // namespace

const std::vector<Cidr>& private_ranges() {
  static const std::vector<Cidr> ranges = {{10u << 24, 8},
                                           {127u << 24, 8},
                                           {(169u << 24) | (254u << 16), 16},
                                           {(172u << 24) | (16u << 16), 12},
                                           {(192u << 24) | (168u << 16), 16}};
  return ranges;
}

CompiledPolicy compile(const Policy& p, const CompileOptions& o) {
  CompiledPolicy c;
  Builder b(c);
  c.internet = p.allow_internet_access.value_or(true);
  c.l7 = !p.rules.empty();
  compile_rules(p, c, b);
  compile_allow_out(p, c, b);
  compile_deny(p, c);
  c.dns_learning = c.dns_name_count > 0;
  compile_resolvers(p, o, c, b);
  for (const Cidr& a : c.l7_addresses) b.allow(a, AllowFlag::l7_target);
  if (c.allow.size() > k_max_allow) too_many("allowOut", "network.allow_out_v2", c.allow.size(), k_max_allow);
  if (c.dns_name_count > k_max_dns_names) too_many("allowOut", "network.dns_allow", c.dns_name_count, k_max_dns_names);
  if (c.deny.size() > k_max_deny) too_many("denyOut", "network.deny_out", c.deny.size(), k_max_deny);
  build_lookups(p, c);
  return c;
}

}  // namespace cube::egress
