// cube::rootfs cluster targets — the nodes `distribute` and `redo` copy to when no --to names them
// (doc/cube-rootfs.md, "Targets from the cluster").
//
// Contract: the targets are the registered nodes of cube-sched's `nodes` table, in the cluster
// store q.settings.url names (cluster_reader.hpp), read through the
// columns cube-state(5) documents: id, address, instance_type, and heartbeat_ms and ready of
// node_heartbeats, where a node without a row never sent one) that have the
// template's instance type, are healthy by the one rule of common/health.hpp, and, when the
// template has a node scope, are in it. This node ([rootfs] node) gets the local store, where the
// artifact already is; any other node the directory [rootfs] node_store names once "{node}" is its
// ID. Every node left out is returned with the reason, and so is a scoped node that is not
// registered: nothing is dropped silently.
#pragma once

#include "request.hpp"
#include "settings.hpp"
#include "state.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cube::rootfs {

inline constexpr std::string_view k_node_placeholder = "{node}";

struct ClusterQuery {
  std::string instance_type;
  std::vector<std::string> scope;  // the template's --node-scope; empty: every node
  std::string local_store;         // this node's store, where the artifact is
  ClusterSettings settings;
  int64_t now_ms = 0;
};

struct Exclusion {
  std::string node, why;
  bool scoped = false;  // the template's scope names it, so leaving it out deserves a warning
};

struct ClusterTargets {
  std::vector<Target> targets;      // in node ID order
  std::vector<Exclusion> excluded;  // in node ID order, then scoped nodes that are not registered
};

ClusterTargets cluster_targets(state::Db& db, const ClusterQuery& q);

// "n1: unhealthy (HeartbeatExpired); n2: instance type gpu, not cubebox", at most `limit` nodes
// and then how many more; "no node is registered" when there is none.
std::string explain(const std::vector<Exclusion>& excluded, size_t limit = 20);

// A [rootfs] node_store value: an absolute path with {node} in it, no other {…}, no `.` or `..`
// component and no control byte. Throws Error(usage) naming the key and the rule.
void check_node_store(std::string_view pattern);
// The pattern with every {node} replaced by the (path-safe) node ID.
std::string expand_node_store(std::string_view pattern, std::string_view node);

}  // namespace cube::rootfs
