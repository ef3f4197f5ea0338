// cube::tap node set-up — what a node needs before its first sandbox TAP: the recorded network
// (tap_node), forwarding, the host's ephemeral ports kept off the mapped-port range, the gateway
// address (CIDR index 1) on lo, and the outbound masquerade in the nftables table `inet cube_tap`.
// Both directions are idempotent; teardown puts back what setup changed.
#pragma once

#include "datapath.hpp"
#include "netlink.hpp"
#include "settings.hpp"
#include "state.hpp"
#include "store.hpp"

#include <optional>
#include <string>
#include <utility>

namespace cube::tap {

inline constexpr const char* k_nft_table = "cube_tap";

struct PortRange {
  uint32_t lo = 0, hi = 0;
  bool operator==(const PortRange&) const = default;
};
// Parses ip_local_port_range ("32768\t60999"); nullopt on anything else.
std::optional<PortRange> parse_port_range(std::string_view text);
// The ephemeral range to use instead of `current` so that it misses the mapped ports, or nullopt
// when it already does: the larger part left below or above the mapped range, or upstream's
// 10000–19999 when neither part holds 1024 ports.
std::optional<PortRange> ephemeral_range_off_mapped(const PortRange& current);

// The nft commands that (re)create `inet cube_tap` with the masquerade, as one transaction.
std::string masquerade_ruleset(const Cidr& cidr, std::string_view uplink);

struct SetupResult {
  NodeRow node;
  std::string uplink_address;
  std::string port_range;  // the ephemeral range now in force
};
SetupResult setup(state::Db& db, Datapath& datapath, const Settings& settings);

// What the data path must know of the recorded node, read from the kernel now.
NodeNet node_net(netlink::Socket& nl, const NodeRow& node);

struct TeardownResult {
  size_t taps_destroyed = 0;
  bool was_set_up = false;
};
// Refuses (exit 4) while sandboxes hold TAPs, unless `force`.
TeardownResult teardown(state::Db& db, Datapath& datapath, bool force);

// The recorded node, or Error(not_found) telling the operator to run setup.
NodeRow require_node(state::Db& db);

}  // namespace cube::tap
