// cube::sched replicas — which nodes may start a sandbox from a template: those holding a READY
// replica of it that is not STALE (doc/cube-sched.md, "Filters"), read from cube-rootfs's
// template_replicas through its documented columns (status, compat_status).
#pragma once

#include "cluster.hpp"
#include "state.hpp"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace cube::sched {

struct ReplicaState {
  std::string status;         // PENDING, READY, FAILED
  std::string compat_status;  // OK, STALE, UNKNOWN
  bool usable() const { return status == "READY" && compat_status != "STALE"; }
};

struct TemplateReplicas {
  std::string template_id;
  std::unordered_map<std::string, ReplicaState> by_node;
  // nullptr when the node holds no replica.
  const ReplicaState* find(const std::string& node) const;
};

// Every replica of the template; Error(not_found) when the template does not exist.
std::shared_ptr<const TemplateReplicas> load_replicas(state::Db& db, const std::string& template_id);
// One node's replica, read again at placement: from the state file, or, when the cluster store is
// that same file, inside the placement's transaction.
std::optional<ReplicaState> read_replica(state::Db& db, const std::string& template_id, const std::string& node);
std::optional<ReplicaState> read_replica(cluster::Tx& tx, const std::string& template_id, const std::string& node);

}  // namespace cube::sched
