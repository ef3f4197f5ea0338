// cube::egress bindings — which sandbox holds which address, read from cube-tap's tables through
// their documented columns (tap_node.cidr and .gateway; taps.sandbox_id, .address, .state).
//
// Contract: only a TAP in state in_use binds its address to its sandbox; a pooled, quarantined,
// creating or releasing TAP's address has no owner here, so it gets the default policy. Reads only.
#pragma once

#include "state.hpp"
#include "targets.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct NodeNet {
  Cidr cidr;             // the sandbox address pool
  uint32_t gateway = 0;  // the node's gateway address (on lo)
};

struct Binding {
  uint32_t address = 0;
  std::string sandbox;
};

// The node's sandbox network; nullopt before `cube-tap setup`.
std::optional<NodeNet> node_net(state::Db& db);
// Throws Error(not_found) naming cube-tap setup when the node is not set up.
NodeNet require_node_net(state::Db& db);
// Every in_use TAP's address and sandbox, by address.
std::vector<Binding> bindings(state::Db& db);
// The address of the sandbox's in_use TAP.
std::optional<uint32_t> address_of(state::Db& db, const std::string& sandbox);

}  // namespace cube::egress
