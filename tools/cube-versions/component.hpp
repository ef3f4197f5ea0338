// One component version as a node reports it (spec §6.2), and the checks every report passes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cube::versions {

struct Component {
  std::string component;
  std::string version;
  std::string commit;
  std::string build_time;
  std::string source;  // "binary", "manifest" or "file"
};

// Field limits of the node_component_version table (spec §1.1).
inline constexpr size_t k_max_component = 64;
inline constexpr size_t k_max_version = 128;
inline constexpr size_t k_max_commit = 64;
inline constexpr size_t k_max_build_time = 64;
inline constexpr size_t k_max_components_per_node = 1024;

// Empty when the row is valid; otherwise what is wrong with which field.
std::string invalid_reason(const Component& c);

// The order-independent hash of a report: SHA-256 over its sorted `component|version|commit|
// build_time|source` lines, so the same set in any order hashes the same (spec §6.3).
std::string report_hash(const std::vector<Component>& rows);

}  // namespace cube::versions
