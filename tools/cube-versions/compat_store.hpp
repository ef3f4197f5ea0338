// cube::versions compat store — what cube-versions writes of template replica compatibility
// (doc/cube-versions.md, "Template replica compatibility"): each replica's status and checked time
// on rescan, its versions on adopt-baseline, each template's policy; and forgetting a node's reports.
//
// Contract: the rule is common/compat.hpp's. rescan_node works inside the caller's transaction (an
// ingest rescans in the transaction that records the report); the other calls are one
// BEGIN IMMEDIATE transaction each. Only READY replicas are re-evaluated. An unknown template is
// Error(not_found).
#pragma once

#include "compat.hpp"
#include "state.hpp"

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
RescanResult rescan_node(state::Db& db, const std::string& node_id, const Clock& clock, const Changed* only = nullptr);
// Every named node, or with `all` every node holding a READY replica, in one transaction.
std::vector<RescanResult> rescan(state::Db& db, const std::vector<std::string>& nodes, bool all, const Clock& clock);

struct PolicyResult {
  std::string template_id;
  compat::Policy policy = compat::Policy::strict;
  int64_t replicas = 0, ok = 0, stale = 0, unknown = 0;
};
// Sets the template's policy, writes it on its replicas and re-evaluates the READY ones.
PolicyResult set_policy(state::Db& db, const std::string& template_id, compat::Policy policy, const Clock& clock);

// READY + UNKNOWN replicas of the template on healthy nodes whose versions its policy compares are
// all known take those versions as their binding and become OK. Returns how many did.
int64_t adopt_baseline(state::Db& db, const std::string& template_id, const Clock& clock);

struct ForgetResult {
  std::string node_id;
  int64_t components = 0;  // node_component_version rows removed
  bool report = false;     // its node_version_report row was removed
};
// Removes a decommissioned node's reports; Error(not_found) when it has none.
ForgetResult forget_node(state::Db& db, const std::string& node_id);

// Error(not_found) unless the template exists (cube-rootfs's templates table).
void require_template(state::Db& db, const std::string& template_id);

}  // namespace cube::versions
