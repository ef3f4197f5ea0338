#include "redirect.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "netlink.hpp"
#include "nft.hpp"
#include "sysctl.hpp"

#include <fmt/format.h>

namespace cube::egress::redirect {
namespace {

constexpr std::string_view k_forward_key = "net.ipv4.ip_forward";

struct Port {
  const char* set;
  const char* proto;
  uint16_t port;
  uint16_t to;
};

std::vector<Port> ports(const Config& c) {
  return {{"l7_sources", "tcp", 80, c.http_port},
          {"l7_sources", "tcp", 443, c.tls_port},
          {"dns_sources", "udp", 53, c.dns_port},
          {"dns_sources", "tcp", 53, c.dns_port}};
}

// The match and the tproxy statement as `nft list` prints them back, so status can find them.
std::string match(const Port& p) { return fmt::format("ip saddr @{} {} dport {}", p.set, p.proto, p.port); }
std::string tproxy(const Config& c, const Port& p) {
  return fmt::format("tproxy ip to {}:{} meta mark set {:#010x} accept", ipv4::format(c.gateway), p.to, c.mark);
}

netlink::MarkRule mark_rule(const Config& c) { return {k_rule_priority, c.mark, 0xFFFFFFFF, c.table}; }

int loopback(netlink::Socket& nl) {
  auto lo = nl.link("lo");
  if (!lo) throw Error(Exit::failed, "no loopback link in this network namespace");
  return lo->ifindex;
}

std::string listing() {
  nft::Context nft;
  if (!nft.table_exists("inet", k_table)) return "";
  try {
    return nft.run(fmt::format("list chain inet {} {}", k_table, k_chain), "listing the redirect chain");
  } catch (const Error& e) {
    if (e.why().find("No such file or directory") != std::string::npos) return "";
    throw;
  }
}

}  // namespace

std::optional<uint32_t> recorded_gateway(state::Db& db) {
  auto q = db.prepare("SELECT gateway FROM tap_node WHERE id = 1");
  if (!q.step()) return std::nullopt;
  auto gw = ipv4::parse_address(q.text(0));
  if (!gw) throw Error(Exit::failed, fmt::format("tap_node.gateway '{}' is not an address", q.text(0)));
  return *gw;
}

uint32_t node_gateway(state::Db& db) {
  auto gw = recorded_gateway(db);
  if (!gw)
    throw Error(Exit::not_found, "this node's sandbox network is not set up", "", "run cube-tap setup --uplink IF");
  return *gw;
}

Config config(const Settings& s, uint32_t gateway) {
  return {gateway, s.proxy_http_port, s.proxy_tls_port, s.dns_relay_port, s.tproxy_mark, s.tproxy_table};
}

std::string up_commands(const Config& c) {
  std::string out = fmt::format(
      "add table inet {0}\n"
      "add set inet {0} l7_sources {{ type ipv4_addr; }}\n"
      "add set inet {0} dns_sources {{ type ipv4_addr; }}\n"
      "add chain inet {0} {1} {{ type filter hook prerouting priority mangle; policy accept; }}\n"
      "flush chain inet {0} {1}\n",
      k_table, k_chain);
  // Without a listening socket tproxy does nothing and the rule ends there; the drop after it
  // keeps the packet from being routed on around the proxy.
  for (const Port& p : ports(c)) {
    out += fmt::format("add rule inet {} {} {} {}\n", k_table, k_chain, match(p), tproxy(c, p));
    out += fmt::format("add rule inet {} {} {} drop\n", k_table, k_chain, match(p));
  }
  return out;
}

std::string down_commands() {
  return fmt::format(
      "add table inet {0}\n"
      "add chain inet {0} {1} {{ type filter hook prerouting priority mangle; policy accept; }}\n"
      "delete chain inet {0} {1}\n",
      k_table, k_chain);
}

void up(const Config& c) {
  if (sysctl::read(k_forward_key) != "1") sysctl::write(k_forward_key, "1");
  nft::Context nft;
  nft.run(up_commands(c), "installing the TPROXY rules in table inet cube_egress");
  netlink::Socket nl;
  nl.replace_local_default(c.table, loopback(nl));
  nl.add_mark_rule(mark_rule(c));
}

void down(const Config& c) {
  netlink::Socket nl;
  nl.delete_mark_rule(mark_rule(c));
  nl.delete_local_default(c.table, loopback(nl));
  nft::Context nft;
  nft.run(down_commands(), "removing the TPROXY rules from table inet cube_egress");
}

std::vector<Item> status(const Config& c) {
  std::vector<Item> out;
  std::string chain = listing();
  out.push_back({"chain", fmt::format("inet {} {} (prerouting, mangle)", k_table, k_chain), !chain.empty()});
  for (const Port& p : ports(c)) {
    bool both = chain.find(match(p) + " " + tproxy(c, p)) != std::string::npos &&
                chain.find(match(p) + " drop") != std::string::npos;
    out.push_back(
        {"tproxy",
         fmt::format("{} {} from @{} to {}:{}, then drop", p.proto, p.port, p.set, ipv4::format(c.gateway), p.to),
         both});
  }
  netlink::Socket nl;
  netlink::MarkRule r = mark_rule(c);
  out.push_back(
      {"rule", fmt::format("priority {} fwmark {:#010x} lookup {}", r.priority, r.mark, r.table), nl.has_mark_rule(r)});
  out.push_back(
      {"route", fmt::format("local 0.0.0.0/0 dev lo table {}", c.table), nl.has_local_default(c.table, loopback(nl))});
  std::string forward = sysctl::read(k_forward_key);
  out.push_back({"sysctl", fmt::format("{} = {}", k_forward_key, forward), forward == "1"});
  return out;
}

}  // namespace cube::egress::redirect
