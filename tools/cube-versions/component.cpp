#include "component.hpp"

#include "sha256.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cube::versions {
std::string field_problem(std::string_view name, std::string_view value, size_t limit) {
  if (value.size() > limit) return fmt::format("{} is {} bytes, the limit is {}", name, value.size(), limit);
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return fmt::format("{} contains a control character", name);
  return {};
}

std::string invalid_reason(const Component& c) {
  if (c.component.empty()) return "component is empty";
  for (auto [name, value, limit] : {std::tuple{"component", std::string_view(c.component), k_max_component},
                                    std::tuple{"version", std::string_view(c.version), k_max_version},
                                    std::tuple{"commit", std::string_view(c.commit), k_max_commit},
                                    std::tuple{"build_time", std::string_view(c.build_time), k_max_build_time}}) {
    if (std::string why = field_problem(name, value, limit); !why.empty()) return why;
  }
  if (c.source != "binary" && c.source != "manifest" && c.source != "file" && !c.source.empty())
    return fmt::format("source '{}' is not binary, manifest or file", c.source);
  return {};
}

std::string report_text(const std::vector<Component>& rows) {
  std::vector<std::string> lines;
  lines.reserve(rows.size());
  for (const auto& r : rows)
    lines.push_back(fmt::format("{}\t{}\t{}\t{}\t{}\n", r.component, r.version, r.commit, r.build_time, r.source));
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& l : lines) text += l;
  return text;
}

std::string report_hash(const std::vector<Component>& rows) { return sha256_hex(report_text(rows)); }

}  // namespace cube::versions
