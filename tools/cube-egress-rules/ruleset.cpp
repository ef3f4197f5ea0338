#include "ruleset.hpp"

#include "nft.hpp"
#include "sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cube::egress::ruleset {
namespace {

constexpr std::string_view k_private = "private_ranges";

// "add element inet cube_egress SET { a, b }\n", or nothing for no elements.
std::string add_elements(std::string_view set, const std::vector<std::string>& elements) {
  if (elements.empty()) return {};
  return fmt::format("add element inet {} {} {{ {} }}\n", k_table, set, fmt::join(elements, ", "));
}

std::vector<std::string> element_texts(const std::vector<Interval>& in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (const auto& i : in) out.push_back(element_text(i));
  return out;
}

// Removes an element whether or not it is there: the add makes the delete safe.
std::string remove_element(std::string_view set, std::string_view element) {
  return fmt::format("add element inet {0} {1} {{ {2} }}\ndelete element inet {0} {1} {{ {2} }}\n", k_table, set,
                     element);
}

std::string set_definition(std::string_view flags) {
  return flags.empty() ? "{ type ipv4_addr; }" : fmt::format("{{ type ipv4_addr; flags {}; }}", flags);
}

std::string add_rules(std::string_view chain, const std::vector<std::string>& rules) {
  std::string out;
  for (const auto& r : rules) out += fmt::format("add rule inet {} {} {}\n", k_table, chain, r);
  return out;
}

std::string refill(std::string_view chain, const std::vector<std::string>& rules) {
  return fmt::format("flush chain inet {} {}\n", k_table, chain) + add_rules(chain, rules);
}

bool is_hook_line(std::string_view line) { return line.starts_with("type "); }

std::vector<std::string> refused(std::string_view set) {
  return {fmt::format("ip daddr @{} meta l4proto tcp reject with tcp reset", set),
          fmt::format("ip daddr @{} drop", set)};
}

constexpr std::pair<const char*, const char*> k_address_sets[] = {
    {"_allow", "interval"}, {"_deny", "interval"}, {"_learned", "timeout"}};

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Out of the map, emptied and deleted, whether it was there or not; then the sets named in redefine.
std::string remove_chain(uint32_t address, const std::vector<std::string>& redefine) {
  std::string a = chain_name(address);
  std::string out = fmt::format("add chain inet {0} {1}\n", k_table, a);
  out += remove_element("sandboxes", fmt::format("{} : goto {}", ipv4_text(address), a));
  out += fmt::format("flush chain inet {0} {1}\ndelete chain inet {0} {1}\n", k_table, a);
  for (const auto& name : redefine) out += fmt::format("delete set inet {} {}\n", k_table, name);
  return out;
}

}  // namespace

std::vector<Interval> merge(std::vector<Interval> in) {
  std::sort(in.begin(), in.end(), [](const Interval& a, const Interval& b) { return a.first < b.first; });
  std::vector<Interval> out;
  for (const auto& i : in) {
    if (!out.empty() && (out.back().last == UINT32_MAX || i.first <= out.back().last + 1)) {
      out.back().last = std::max(out.back().last, i.last);
      continue;
    }
    out.push_back(i);
  }
  return out;
}

std::vector<Interval> intervals(const std::vector<Cidr>& cidrs) {
  std::vector<Interval> out;
  out.reserve(cidrs.size());
  for (const Cidr& c : cidrs) out.push_back({c.network, c.network | ~Cidr::mask(c.prefix)});
  return merge(std::move(out));
}

std::string element_text(const Interval& i) {
  if (i.first == i.last) return ipv4_text(i.first);
  uint32_t size_minus_1 = i.last - i.first;
  bool prefix = (size_minus_1 & (size_minus_1 + 1)) == 0 && (i.first & size_minus_1) == 0;
  if (!prefix) return fmt::format("{}-{}", ipv4_text(i.first), ipv4_text(i.last));
  int len = 32 - std::popcount(size_minus_1);
  return fmt::format("{}/{}", ipv4_text(i.first), len);
}

std::string comment(const Owner& o) {
  return fmt::format("sandbox={} revision={} names={}", o.sandbox, o.revision, o.names);
}

std::optional<Owner> parse_comment(std::string_view text) {
  Owner o;
  bool got[3] = {false, false, false};
  while (!text.empty()) {
    size_t sp = text.find(' ');
    std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
    size_t eq = word.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view k = word.substr(0, eq), v = word.substr(eq + 1);
    if (k == "sandbox") {
      o.sandbox = std::string(v);
      got[0] = true;
    } else if (k == "revision") {
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.revision);
      got[1] = ec == std::errc() && end == v.data() + v.size();
    } else if (k == "names") {
      o.names = std::string(v);
      got[2] = true;
    }
  }
  if (!got[0] || !got[1] || !got[2]) return std::nullopt;
  return o;
}

AddressPolicy address_policy(uint32_t address, const std::string& sandbox, int64_t revision, const CompiledPolicy& c) {
  AddressPolicy p;
  p.address = address;
  std::string names;
  for (const auto* list : {&c.allow_domains, &c.l7_names})
    for (const auto& n : *list) names += n.text() + "\n";
  p.owner = {sandbox, revision, sha256_hex(names).substr(0, 8)};
  std::vector<Cidr> allow, deny;
  for (const auto& a : c.allow) allow.push_back(a.cidr);
  for (const auto& d : c.deny) deny.push_back(d.cidr);
  p.allow = intervals(allow);
  p.deny = intervals(deny);
  p.l7 = c.l7;
  p.dns_learning = c.dns_learning;
  return p;
}

std::string key(uint32_t address) { return fmt::format("{:08x}", address); }
std::string chain_name(uint32_t address) { return "a_" + key(address); }

std::optional<uint32_t> chain_address(std::string_view name) {
  if (name.size() != 10 || !name.starts_with("a_")) return std::nullopt;
  uint32_t v = 0;
  for (char ch : name.substr(2)) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return std::nullopt;
    v = v << 4 | static_cast<uint32_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
  }
  return v;
}

std::map<std::string, std::vector<std::string>> base_lines(const Base& b) {
  std::string cidr = b.net.cidr.text(), gw = ipv4_text(b.net.gateway);
  std::vector<uint16_t> proxy = {b.ports.proxy_http, b.ports.proxy_tls};
  std::sort(proxy.begin(), proxy.end());
  proxy.erase(std::unique(proxy.begin(), proxy.end()), proxy.end());
  std::vector<std::string> default_out = refused(k_private);
  default_out.push_back("accept");
  return {
      {"forward",
       {"type filter hook forward priority filter; policy accept;", fmt::format("ip saddr {} goto sandbox_out", cidr)}},
      {"input",
       {"type filter hook input priority filter; policy accept;", fmt::format("ip saddr {} goto sandbox_in", cidr)}},
      {"sandbox_out", {"ct state established,related accept", "ip saddr vmap @sandboxes", "goto default_out"}},
      {"default_out", default_out},
      // A TPROXYed packet keeps its original destination, which is no address of the node's own:
      // the one way such a packet reaches input.
      {"sandbox_in",
       {"ct state established,related accept", "fib daddr type unicast accept",
        proxy.size() == 1 ? fmt::format("ip daddr {} tcp dport {} accept", gw, proxy[0])
                          : fmt::format("ip daddr {} tcp dport {{ {} }} accept", gw, fmt::join(proxy, ", ")),
        fmt::format("ip daddr {} meta l4proto {{ tcp, udp }} th dport {} accept", gw, b.ports.dns_relay),
        fmt::format("ip daddr {} icmp type echo-request accept", gw), "drop"}},
  };
}

std::vector<std::string> address_lines(uint32_t address) {
  std::string a = chain_name(address);
  std::vector<std::string> out = {fmt::format("ip daddr @{}_allow accept", a),
                                  fmt::format("ip daddr @{}_learned accept", a)};
  for (auto& r : refused(a + "_deny")) out.push_back(std::move(r));
  out.push_back("accept");
  return out;
}

std::string base_commands(const Base& b) {
  std::string out = fmt::format("add table inet {}\n", k_table);
  for (auto [set, flags] : {std::pair{"l7_sources", ""}, {"dns_sources", ""}, {k_private.data(), "interval"}})
    out += fmt::format("add set inet {} {} {}\n", k_table, set, set_definition(flags));
  out += fmt::format("add map inet {} sandboxes {{ type ipv4_addr : verdict; }}\n", k_table);
  auto lines = base_lines(b);
  // Chains first (empty), so that every goto below has its target.
  for (const auto& [chain, rules] : lines) {
    if (is_hook_line(rules.front()))
      out += fmt::format("add chain inet {} {} {{ {} }}\n", k_table, chain, rules.front());
    else
      out += fmt::format("add chain inet {} {}\n", k_table, chain);
  }
  out += fmt::format("flush set inet {} {}\n", k_table, k_private);
  out += add_elements(k_private, element_texts(intervals(private_ranges())));
  for (auto& [chain, rules] : lines) {
    if (is_hook_line(rules.front())) rules.erase(rules.begin());
    out += refill(chain, rules);
  }
  return out;
}

std::map<std::string, std::string> address_set_definitions(uint32_t address) {
  std::map<std::string, std::string> out;
  for (auto [suffix, flags] : k_address_sets) out[chain_name(address) + suffix] = fmt::format("ipv4_addr {}", flags);
  return out;
}

std::string bind_commands(const AddressPolicy& p, bool flush_learned, const std::vector<std::string>& redefine) {
  std::string a = chain_name(p.address), addr = ipv4_text(p.address);
  // The chain's comment is fixed when it is made, so the chain is made again: out of the map, emptied,
  // deleted and re-added in this same transaction, which nobody sees half-done.
  std::string out = remove_chain(p.address, redefine);
  for (auto [suffix, flags] : k_address_sets)
    out += fmt::format("add set inet {} {}{} {}\n", k_table, a, suffix, set_definition(flags));
  out += fmt::format("flush set inet {0} {1}_allow\nflush set inet {0} {1}_deny\n", k_table, a);
  if (flush_learned) out += fmt::format("flush set inet {} {}_learned\n", k_table, a);
  out += add_elements(a + "_allow", element_texts(p.allow));
  out += add_elements(a + "_deny", element_texts(p.deny));
  out += fmt::format("add chain inet {} {} {{ comment \"{}\"; }}\n", k_table, a, comment(p.owner));
  out += add_rules(a, address_lines(p.address));
  out += fmt::format("add element inet {} sandboxes {{ {} : goto {} }}\n", k_table, addr, a);
  for (auto [set, member] : {std::pair{"l7_sources", p.l7}, {"dns_sources", p.dns_learning}})
    out += member ? fmt::format("add element inet {} {} {{ {} }}\n", k_table, set, addr) : remove_element(set, addr);
  return out;
}

std::string unbind_commands(uint32_t address, const std::vector<std::string>& redefine) {
  std::string a = chain_name(address), addr = ipv4_text(address);
  std::string out = remove_chain(address, redefine);
  for (auto [suffix, flags] : k_address_sets)
    if (!listed(redefine, a + suffix))
      out += fmt::format("add set inet {0} {1}{2} {3}\ndelete set inet {0} {1}{2}\n", k_table, a, suffix,
                         set_definition(flags));
  for (auto set : {"l7_sources", "dns_sources"}) out += remove_element(set, addr);
  return out;
}

std::string flush_shared_commands() {
  return fmt::format("flush set inet {0} l7_sources\nflush set inet {0} dns_sources\nflush map inet {0} sandboxes\n",
                     k_table);
}

std::string teardown_commands() { return nft::delete_table_commands("inet", k_table); }

}  // namespace cube::egress::ruleset
