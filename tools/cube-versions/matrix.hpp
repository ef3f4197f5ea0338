// The cluster version matrix: per component the declared version(s) and every reported version
// with its nodes; per node its components and whether each version is declared
// (doc/cube-versions.md, "The matrix").
#pragma once

#include "cluster.hpp"
#include "manifest.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cube::versions {

// component → its accepted versions (sorted, never "" or "unknown").
using Declared = std::map<std::string, std::vector<std::string>>;
Declared declared_versions(const Manifest& m);

struct VersionGroup {
  std::string version;
  std::vector<uint32_t> nodes;  // indices into Matrix::nodes, in node-ID order
  bool declared = false;
};

inline constexpr uint32_t k_no_group = UINT32_MAX;

struct ComponentView {
  std::string name;
  std::vector<std::string> declared;   // empty: the release says nothing about it
  std::vector<VersionGroup> versions;  // sorted by version string
  // Per node index: which of `versions` it runs, or k_no_group. One flat array per component
  // instead of a list per node: a 10,000-node matrix then costs a handful of allocations.
  std::vector<uint32_t> group_of;
  bool consistent() const { return versions.size() <= 1; }
};

enum class Health { healthy, unhealthy, unknown };

struct NodeView {
  std::string id;
  Health health = Health::unknown;
  std::string reason;  // HeartbeatExpired, ReportedNotReady, NotRegistered, or ""
};

struct Matrix {
  std::vector<ComponentView> components;  // sorted by name
  std::vector<NodeView> nodes;            // sorted by ID
  std::vector<uint32_t> shown_nodes;      // the nodes the --node filter keeps, in order
  bool registry = false;                  // a node registry (cube-sched) exists in the cluster store
};

struct MatrixQuery {
  std::string component;  // only this component, when set
  std::string node;       // only this node in the node view (and --check), when set
  int64_t now_ms = 0;
  int64_t heartbeat_timeout_ms = 0;
};

// Reads the matrix; throws Error(not_found) when a named component or node has no rows.
Matrix load_matrix(cluster::Store& store, const Declared& declared, const MatrixQuery& q);

// What --check reports: every skewed component and every undeclared version, one line each, for
// the shown nodes.
std::vector<std::string> problems(const Matrix& m);

}  // namespace cube::versions
