// cube::rootfs::JobRunner — one template job through its phases (doc/cube-rootfs.md, "Jobs and
// phases"), recorded in the state file as it goes: PULLING 5 % (prepare the source, fingerprint),
// UNPACKING 20 % and BUILDING_EXT4 40–70 % (the artifact, or reuse of a READY one with the same
// fingerprint), DISTRIBUTING 70–85 % (4 workers, a replica row per node), READY 100 %.
//
// Contract:
// - run(from) starts at phase `from`; every phase before it is already done and is not redone.
// - A failure marks the job FAILED at its phase with the error, the template FAILED unless it was
//   READY, and a fresh artifact FAILED with its files removed; then the Error is rethrown.
// - A process killed at any moment leaves the job RUNNING with a dead runner; redo() sees that,
//   marks it FAILED and resumes from its phase, always for the template's own ID (#544).
// - CUBE_ROOTFS_PAUSE_AT=PHASE makes the runner wait at the start of that phase (tests kill it there).
#pragma once

#include "catalog.hpp"
#include "request.hpp"
#include "settings.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cube::rootfs {

struct RunScope {
  std::vector<Target> targets;     // the nodes the job may copy to: the --to list, or the cluster's
  std::vector<std::string> nodes;  // empty: every target
  bool failed_only = false;        // only targets whose replica is not READY
};

using ProgressFn = std::function<void(std::string_view, int)>;

// Creates the template and its first job, then runs it. Returns the job as it ended. `cluster`
// gives the heartbeat timeout by which a replica's node counts as healthy when it is bound.
JobRow build_template(state::Db& db, TemplateRequest req, const ClusterSettings& cluster, const ProgressFn& bar);

// A redo copies to the template's --to list, or, when it has none, to the cluster's targets
// (cluster_targets.hpp), asked afresh; a redo that only distributes fails (not_found) when the
// cluster has no eligible node, one that rebuilds then copies nowhere, as build does.
enum class RedoMode { failed_only, all };
JobRow redo_template(state::Db& db, const std::string& template_id, RedoMode mode,
                     const std::vector<std::string>& nodes, const ClusterSettings& cluster, const ProgressFn& bar);

// Copies a READY template's artifact to more nodes (a DISTRIBUTE job). Named targets (--to) join
// the template's request so that a redo retries them; with none, the job copies to the cluster's
// targets, which are not stored (a redo asks the registry again), and fails (not_found) naming
// why each node was left out when there is none.
JobRow distribute_template(state::Db& db, const std::string& template_id, const std::vector<Target>& targets,
                           const std::string& via, const ClusterSettings& cluster, const ProgressFn& bar);

// The store layout of one artifact.
struct ArtifactPaths {
  std::string dir, ext4, files, manifest;
};
ArtifactPaths artifact_paths(const std::string& store, const std::string& artifact_id);

// The lock that lets one job at a time work on an artifact, and gc remove it only when none does:
// `<store>/.locks/<artifact_id>`.
std::string artifact_lock_path(const std::string& store, const std::string& artifact_id);

}  // namespace cube::rootfs
