#include "labels.hpp"

#include <fmt/format.h>

namespace cube::sched {

std::string_view full_label_key(std::string_view key) {
  for (auto [alias, full] : k_canonical_labels)
    if (key == alias) return full;
  return key;
}

bool is_canonical_label(std::string_view full_key) {
  for (auto [alias, full] : k_canonical_labels)
    if (full_key == full) return true;
  return false;
}

Labels canonical_labels(const std::string& zone, const std::string& cluster_id, const std::string& cpu_type,
                        int64_t mem_bytes, int64_t cpu_m, const std::string& instance_type) {
  return {
      {std::string(k_label_zone), zone},
      {std::string(k_label_cluster_id), cluster_id},
      {std::string(k_label_cpu_type), cpu_type},
      {std::string(k_label_memory_size), fmt::format("{}Mi", mem_bytes >> 20)},
      {std::string(k_label_cpu_cores), fmt::format("{}m", cpu_m)},
      {std::string(k_label_instance_type), instance_type},
  };
}

}  // namespace cube::sched
