// One component version as a node reports it, and the checks every report passes
// (doc/cube-versions.md, "Recording a report").
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

// Field limits: upstream's column widths for node_component_version.
inline constexpr size_t k_max_component = 64;
inline constexpr size_t k_max_version = 128;
inline constexpr size_t k_max_commit = 64;
inline constexpr size_t k_max_build_time = 64;
inline constexpr size_t k_max_components_per_node = 1024;

// Empty when the row is valid; otherwise what is wrong with which field.
std::string invalid_reason(const Component& c);
// Empty when `value` fits `limit` bytes and holds no control character (newline and NUL included);
// otherwise what is wrong, naming `name`.
std::string field_problem(std::string_view name, std::string_view value, size_t limit);

// A report as text: one `component<TAB>version<TAB>commit<TAB>build_time<TAB>source` line per row,
// sorted, so the same set in any order gives the same text. Valid fields hold no control bytes, so
// a tab or a newline never occurs inside one.
std::string report_text(const std::vector<Component>& rows);

// The order-independent hash of a report: SHA-256 of its report_text (why not upstream's FNV:
// doc/cube-versions.md, "Where it differs from upstream").
std::string report_hash(const std::vector<Component>& rows);

}  // namespace cube::versions
