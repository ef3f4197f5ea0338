// cube::versions compat store — what cube-versions writes of template replica compatibility
// (doc/cube-versions.md, "Template replica compatibility"): each replica's status and checked time
// on rescan, its versions on adopt-baseline, each template's policy; and forgetting a node's reports.
//
// Contract: the rule is common/compat.hpp's. Replicas and templates are read and written in the
// state file, nodes, heartbeats and versions in the cluster store (stores.hpp). rescan_node works
// inside the caller's transaction (an ingest rescans in the transaction that records the report);
// the other calls are one Stores::write each. Only READY replicas are re-evaluated. An unknown
// template is Error(not_found).
#pragma once

#include "compat.hpp"
#include "state.hpp"
#include "stores.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::versions {

struct Clock {
  int64_t now_ms = 0;
  int64_t heartbeat_timeout_ms = 0;
};

// Which of a node's three versions changed; a replica is rescanned when its policy compares one.
struct Changed {
  bool guest_image = false, agent = false, kernel = false;
  bool any() const { return guest_image || agent || kernel; }
  bool matters_to(compat::Policy p) const;
};
Changed changed_between(const compat::Versions& before, const compat::Versions& after);

struct RescanResult {
  std::string node_id;
  bool healthy = false;
  int64_t checked = 0, ok = 0, stale = 0, unknown = 0;
  int64_t changed = 0;  // replicas whose status changed
};

// Re-evaluates the node's READY replicas (only those `only` matters to, when given), inside the
// caller's transaction.
RescanResult rescan_node(Both& both, const std::string& node_id, const Clock& clock, const Changed* only = nullptr);
// Every named node, or with `all` every node holding a READY replica, in one transaction.
std::vector<RescanResult> rescan(Stores& stores, const std::vector<std::string>& nodes, bool all, const Clock& clock);

struct PolicyResult {
  std::string template_id;
  compat::Policy policy = compat::Policy::strict;
  int64_t replicas = 0, ok = 0, stale = 0, unknown = 0;
};
// Sets the template's policy, writes it on its replicas and re-evaluates the READY ones.
PolicyResult set_policy(Stores& stores, const std::string& template_id, compat::Policy policy, const Clock& clock);

// READY + UNKNOWN replicas of the template on healthy nodes whose versions its policy compares are
// all known take those versions as their binding and become OK. Returns how many did.
int64_t adopt_baseline(Stores& stores, const std::string& template_id, const Clock& clock);

struct ForgetResult {
  std::string node_id;
  int64_t components = 0;  // node_component_version rows removed
  bool report = false;     // its node_version_report row was removed
};
// Removes a decommissioned node's reports (cluster tables only); Error(not_found) when it has none.
ForgetResult forget_node(cluster::Store& store, const std::string& node_id);

// Error(not_found) unless the template exists (cube-rootfs's templates table).
void require_template(state::Db& db, const std::string& template_id);

}  // namespace cube::versions
