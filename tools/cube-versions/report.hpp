// Persisting a node's report: one transaction per node that upserts on (node, component),
// hard-deletes what the node no longer reports, and skips the write entirely when the report's
// order-independent hash is unchanged (doc/cube-versions.md, "Recording a report").
#pragma once

#include "cluster_copy.hpp"
#include "compat_store.hpp"
#include "component.hpp"
#include "stores.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cube::versions {

// cube-versions' cluster tables, column by column: what `cube-versions migrate` copies.
std::vector<cluster::Table> cluster_tables();

// Parses JSON Lines, one component object a line (blank lines skipped). Throws Error(usage) naming
// the line number and the field; a component named twice is an error too.
std::vector<Component> parse_report(std::string_view jsonl);

struct IngestResult {
  std::string node_id;
  size_t components = 0;
  bool changed = false;  // false: same hash as the last report, nothing written
  int upserted = 0;
  int deleted = 0;
  int64_t rescanned = 0;  // READY replicas re-evaluated because a version they compare changed
};

// Records `rows` as node `node_id`'s components. An empty report is ignored (changed = false). When
// the node's guest-image, cube-agent or kernel version changed, its READY replicas whose policy
// compares it are rescanned in the same transaction (stores.hpp: on PostgreSQL, this state file's
// replicas, under its write lock). A rerun after a serialization failure records it again.
IngestResult ingest(Stores& stores, const std::string& node_id, const std::vector<Component>& rows, const Clock& clock);

}  // namespace cube::versions
