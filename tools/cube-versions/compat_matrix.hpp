// cube::versions compat matrix — every READY template against every node of its instance type
// (doc/cube-versions.md, "Template replica compatibility"): a cell per node, OK, STALE, UNKNOWN or
// MISSING, each template's overall status and the summary counters.
//
// A template's nodes are the healthy registered nodes of its instance type and every node that
// holds a READY replica of it. A READY replica on a healthy node is evaluated live (its binding
// against the node's versions now); on any other node it keeps STALE or reads UNKNOWN. A node of
// the set without a READY replica is MISSING.
#pragma once

#include "compat.hpp"
#include "stores.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::versions {

enum class CellStatus : uint8_t { ok, stale, unknown, missing };
std::string_view cell_status_name(CellStatus s);

struct CompatNode {
  std::string id;
  std::string instance_type;
  bool registered = false, healthy = false;
  uint32_t guest_image = 0, agent = 0, kernel = 0;  // current versions, as indices into CompatMatrix::strings
};

struct CompatCell {
  uint32_t node = 0;
  CellStatus status = CellStatus::missing;
  bool replica = false;  // a replica row exists (READY unless status is MISSING)
  compat::Status stored = compat::Status::unknown;
  uint32_t guest_image = 0, agent = 0, kernel = 0;  // bound versions, indices into strings
  uint32_t replica_status = 0;                      // index into strings ("" without a row)
  int64_t checked_ms = 0;
};

struct CompatTemplate {
  std::string id, instance_type;
  compat::Policy policy = compat::Policy::strict;
  CellStatus overall = CellStatus::ok;
  std::vector<CompatCell> cells;  // in node order
};

struct CompatSummary {
  int64_t stale_templates = 0, stale_replicas = 0, affected_nodes = 0, missing_replicas = 0, unknown_replicas = 0;
};

struct CompatMatrix {
  std::vector<CompatNode> nodes;          // sorted by ID
  std::vector<CompatTemplate> templates;  // sorted by ID
  std::vector<std::string> strings{""};   // interned versions and statuses; [0] is ""
  CompatSummary summary;
  const std::string& text(uint32_t i) const { return strings[i]; }
  compat::Versions current(const CompatNode& n) const;
  compat::Versions bound(const CompatCell& c) const;
};

struct CompatQuery {
  std::string template_id;  // only this template, when set (Error(not_found) when it does not exist)
  std::string node;         // only this node's cells, when set
  int64_t now_ms = 0;
  int64_t heartbeat_timeout_ms = 0;
};

CompatMatrix load_compat(Stores& stores, const CompatQuery& q);

// One line per STALE cell, naming the template, the node and what changed: what --check prints.
std::vector<std::string> stale_replicas(const CompatMatrix& m);

// `bound -> current` for one version, "" when both are empty.
std::string version_delta(const std::string& bound, const std::string& current);

}  // namespace cube::versions
