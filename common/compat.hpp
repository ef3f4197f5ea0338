// cube::compat — the one rule for template replica compatibility (doc/cube-versions.md,
// "Template replica compatibility"), used by every tool that binds, rescans or shows a replica.
//
// A replica is bound to the guest-image, agent and kernel versions of its node when it became
// READY. Its status compares those with the node's current versions, dimension by dimension, as
// far as its policy asks: STRICT compares guest-image and agent, GUEST_ONLY guest-image alone,
// STRICT_KERNEL all three. A compared dimension that differs makes the replica STALE at once; an
// empty bound or current version makes it UNKNOWN unless another dimension is stale; all equal is
// OK. A node that is not healthy has no current versions: its replicas read UNKNOWN, except that a
// STALE replica stays STALE.
#pragma once

#include "cluster.hpp"
#include "state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::compat {

enum class Policy { strict, guest_only, strict_kernel };
enum class Status { ok, stale, unknown };

struct Versions {
  std::string guest_image, agent, kernel;
  bool operator==(const Versions&) const = default;
};

// Component names of the three versions in cube-versions' reports.
inline constexpr std::string_view k_guest_image = "guest-image";
inline constexpr std::string_view k_agent = "cube-agent";
inline constexpr std::string_view k_kernel = "kernel";

// Trimmed; "unknown" in any case reads as empty.
std::string normalise_version(std::string_view v);

// Upper-cased; empty is STRICT; anything else unknown is nullopt.
std::optional<Policy> parse_policy(std::string_view text);
std::string_view policy_name(Policy p);
// Upper-cased; empty or unrecognised is UNKNOWN.
Status parse_status(std::string_view text);
std::string_view status_name(Status s);

bool compares_agent(Policy p);
bool compares_kernel(Policy p);

Status evaluate(const Versions& bound, const Versions& current, Policy p);
// What a rescan writes: evaluate() when the node's current versions are known, else UNKNOWN
// unless the replica was STALE.
Status rescan(Status stored, const Versions& bound, const std::optional<Versions>& current, Policy p);

// --- reading the tables through the documented columns (cube-state(5)) --------------------------
// The cluster tables through the cluster store's transaction (common/cluster.hpp), which is the
// state file or PostgreSQL; template_compat, node-local, through the state file.

// The versions cube-versions last recorded for the node (node_component_version), normalised;
// empty when the node never reported them.
Versions recorded_versions(cluster::Tx& tx, std::string_view node_id);
// Healthy by common/health.hpp from cube-sched's nodes and node_heartbeats; false when it is not
// registered.
bool node_healthy(cluster::Tx& tx, std::string_view node_id, int64_t now_ms, int64_t timeout_ms);
// recorded_versions() when the node is healthy, else nullopt.
std::optional<Versions> current_versions(cluster::Tx& tx, std::string_view node_id, int64_t now_ms, int64_t timeout_ms);
// The template's policy (template_compat, owned by cube-versions); STRICT when it has none.
Policy template_policy(state::Db& db, std::string_view template_id);

}  // namespace cube::compat
