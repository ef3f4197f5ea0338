#include "node_setup.hpp"

#include "error.hpp"
#include "log.hpp"
#include "netlink.hpp"
#include "nft.hpp"
#include "plumbing.hpp"
#include "ports.hpp"
#include "sysctl.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <net/if.h>

#include <charconv>

namespace cube::tap {
namespace {

constexpr std::string_view k_port_range_key = "net.ipv4.ip_local_port_range";
constexpr std::string_view k_forward_key = "net.ipv4.ip_forward";

netlink::Link uplink_link(netlink::Socket& nl, const std::string& name) {
  if (name.empty()) throw Error(Exit::usage, "no uplink given", "", "pass --uplink IF or set [tap] uplink");
  bool plain = name.size() < IFNAMSIZ && name.find_first_of("\"\\ \t\n/") == std::string::npos;
  auto link = plain ? nl.link(name) : std::nullopt;
  if (!link) throw Error(Exit::not_found, fmt::format("uplink {} not found", name.substr(0, 40)));
  return *link;
}

ipv4::Prefix uplink_address(netlink::Socket& nl, const netlink::Link& link) {
  auto addrs = nl.ipv4_addresses(link.ifindex);
  if (addrs.size() != 1)
    throw Error(Exit::usage, fmt::format("uplink {} has {} IPv4 addresses", link.name, addrs.size()),
                "it needs exactly one: outbound traffic is masqueraded to it");
  return addrs[0];
}

// Keeps the ephemeral range off the mapped ports; remembers what was there for teardown.
std::string keep_ports_apart(NodeRow& row) {
  std::string now = sysctl::read(k_port_range_key);
  auto current = parse_port_range(now);
  if (!current) throw Error(Exit::failed, fmt::format("cannot read {} '{}'", k_port_range_key, now));
  auto moved = ephemeral_range_off_mapped(*current);
  if (!moved) return fmt::format("{}-{}", current->lo, current->hi);
  std::string text = fmt::format("{}\t{}", moved->lo, moved->hi);
  sysctl::write(k_port_range_key, text);
  if (row.saved_port_range.empty()) row.saved_port_range = now;
  row.set_port_range = text;
  log::info("ephemeral ports moved from {} to {}", now, text);
  return fmt::format("{}-{}", moved->lo, moved->hi);
}

void enable_forwarding(NodeRow& row) {
  std::string now = sysctl::read(k_forward_key);
  if (now == "1") return;
  sysctl::write(k_forward_key, "1");
  if (row.saved_forwarding.empty()) row.saved_forwarding = now;
}

void gateway_on_lo(netlink::Socket& nl, const Cidr& cidr, const std::optional<NodeRow>& before) {
  auto lo = nl.link("lo");
  if (!lo) throw Error(Exit::failed, "no loopback link in this network namespace");
  if (!(lo->flags & IFF_UP)) {
    netlink::LinkChange up;
    up.up = true;
    nl.change_link(*lo, up);
  }
  if (before && before->cidr.gateway() != cidr.gateway()) nl.delete_address(lo->ifindex, {before->cidr.gateway(), 32});
  nl.add_address(lo->ifindex, {cidr.gateway(), 32});
}

// Puts back a sysctl only when it still holds what setup wrote: someone may have changed it since.
void restore_sysctls(const NodeRow& row) {
  if (!row.saved_port_range.empty() && !row.set_port_range.empty()) {
    auto now = parse_port_range(sysctl::read(k_port_range_key));
    if (now && now == parse_port_range(row.set_port_range)) sysctl::write(k_port_range_key, row.saved_port_range);
  }
  if (!row.saved_forwarding.empty() && sysctl::read(k_forward_key) == "1")
    sysctl::write(k_forward_key, row.saved_forwarding);
}

}  // namespace

std::optional<PortRange> parse_port_range(std::string_view text) {
  uint32_t v[2] = {0, 0};
  for (auto& out : v) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || out > 65535) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (!text.empty() || v[0] > v[1]) return std::nullopt;
  return PortRange{v[0], v[1]};
}

std::optional<PortRange> ephemeral_range_off_mapped(const PortRange& r) {
  if (r.hi < k_port_min || r.lo > k_port_max) return std::nullopt;
  PortRange below{r.lo, k_port_min - 1}, above{k_port_max + 1, r.hi};
  uint32_t below_n = r.lo < k_port_min ? k_port_min - r.lo : 0;
  uint32_t above_n = r.hi > k_port_max ? r.hi - k_port_max : 0;
  if (std::max(below_n, above_n) < 1024) return PortRange{10000, 19999};
  return above_n >= below_n ? above : below;
}

std::string masquerade_ruleset(const Cidr& cidr, std::string_view uplink) {
  return fmt::format(
      "table inet {0}\n"
      "delete table inet {0}\n"
      "table inet {0} {{\n"
      "  chain postrouting {{\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    ip saddr {1} oifname \"{2}\" masquerade\n"
      "  }}\n"
      "}}\n",
      k_nft_table, cidr.text(), uplink);
}

SetupResult setup(state::Db& db, Datapath& datapath, const Settings& s) {
  Cidr cidr = parse_cidr(s.cidr, "--cidr");
  netlink::Socket nl;
  netlink::Link up = uplink_link(nl, s.uplink);
  SetupResult out;
  ipv4::Prefix uplink_ip = uplink_address(nl, up);
  out.uplink_address = ipv4::format(uplink_ip);
  if (s.mtu > up.mtu)
    throw Error(Exit::usage, fmt::format("--mtu {} is larger than uplink {}'s MTU {}", s.mtu, up.name, up.mtu));

  state::Transaction txn(db);
  std::optional<NodeRow> before = load_node(db);
  if (before && before->cidr.prefix != cidr.prefix && !all_taps(db).empty())
    throw Error(Exit::conflict, fmt::format("cannot change the CIDR from {} to {}", before->cidr.text(), cidr.text()),
                "TAPs still hold addresses from it", "release them and run cube-tap pool shrink 0 first");
  NodeRow row = before.value_or(NodeRow{});
  if (before && before->cidr.prefix != cidr.prefix) row.ipam_cursor = 1;
  row.uplink = up.name;
  row.cidr = cidr;
  row.mtu = s.mtu;
  row.setup_ms = time::now_ms();
  enable_forwarding(row);
  out.port_range = keep_ports_apart(row);
  gateway_on_lo(nl, cidr, before);
  nft::Context nft;
  nft.run(masquerade_ruleset(cidr, up.name), "installing the masquerade in table inet cube_tap");
  datapath.setup({up.name, up.ifindex, uplink_ip.address, cidr.gateway()});
  save_node(db, row);
  txn.commit();
  out.node = row;
  return out;
}

NodeNet node_net(netlink::Socket& nl, const NodeRow& node) {
  netlink::Link up = uplink_link(nl, node.uplink);
  return {up.name, up.ifindex, uplink_address(nl, up).address, node.cidr.gateway()};
}

TeardownResult teardown(state::Db& db, Datapath& datapath, bool force) {
  TeardownResult out;
  netlink::Socket nl;
  state::Transaction txn(db);
  std::optional<NodeRow> row = load_node(db);
  out.was_set_up = row.has_value();
  std::vector<std::string> names;
  size_t busy = 0;
  for (const auto& t : all_taps(db)) {
    names.push_back(t.name);
    if (t.state != TapState::pooled && t.state != TapState::quarantined) ++busy;
  }
  if (busy > 0 && !force)
    throw Error(Exit::conflict, fmt::format("{} sandboxes still hold TAPs", busy), "",
                "release them first, or pass --force to destroy them too");
  datapath.remove_all();
  out.taps_destroyed = destroy_batch(nl, names);
  nft::Context nft;
  nft.run(nft::delete_table_commands("inet", k_nft_table), "removing table inet cube_tap");
  if (row) {
    if (auto lo = nl.link("lo")) nl.delete_address(lo->ifindex, {row->cidr.gateway(), 32});
    restore_sysctls(*row);
  }
  db.exec("DELETE FROM taps");
  delete_node(db);
  txn.commit();
  return out;
}

NodeRow require_node(state::Db& db) {
  auto row = load_node(db);
  if (!row)
    throw Error(Exit::not_found, "this node's sandbox network is not set up", "", "run cube-tap setup --uplink IF");
  return *row;
}

}  // namespace cube::tap
