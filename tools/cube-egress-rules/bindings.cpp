#include "bindings.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cube::egress {
namespace {

uint32_t address_column(const state::Statement& s, int column, std::string_view what) {
  auto a = parse_ipv4(s.text(column));
  if (!a)
    throw Error(Exit::failed, fmt::format("the state file's {} is not an IPv4 address", what),
                std::string(s.text(column)));
  return *a;
}

}  // namespace

std::optional<NodeNet> node_net(state::Db& db) {
  auto s = db.prepare("SELECT cidr, gateway FROM tap_node WHERE id = 1");
  if (!s.step()) return std::nullopt;
  auto cidr = parse_cidr(s.text(0));
  if (!cidr) throw Error(Exit::failed, "the state file's tap_node.cidr is not a CIDR", std::string(s.text(0)));
  return NodeNet{*cidr, address_column(s, 1, "tap_node.gateway")};
}

NodeNet require_node_net(state::Db& db) {
  auto n = node_net(db);
  if (!n)
    throw Error(Exit::not_found, "this node's sandbox network is not set up", "",
                "run cube-tap setup --uplink IF first");
  return *n;
}

std::vector<Binding> bindings(state::Db& db) {
  std::vector<Binding> out;
  auto s = db.prepare("SELECT address, sandbox_id FROM taps WHERE state = 'in_use' AND sandbox_id IS NOT NULL");
  while (s.step()) out.push_back({address_column(s, 0, "taps.address"), std::string(s.text(1))});
  std::sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) { return a.address < b.address; });
  return out;
}

std::optional<uint32_t> address_of(state::Db& db, const std::string& sandbox) {
  auto s = db.prepare("SELECT address FROM taps WHERE state = 'in_use' AND sandbox_id = ?");
  s.bind_all(sandbox);
  if (!s.step()) return std::nullopt;
  return address_column(s, 0, "taps.address");
}

}  // namespace cube::egress
