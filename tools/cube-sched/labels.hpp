// cube::sched labels — the six canonical node labels and their selector aliases (doc/cube-sched.md,
// "Labels").
//
// Every node carries the six canonical labels, possibly empty, derived from its registration; they
// win over a registered label of the same name. Selectors may name them by full key or by alias.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cube::sched {

inline constexpr std::string_view k_label_zone = "topology.kubernetes.io/zone";
inline constexpr std::string_view k_label_cluster_id = "topology.kubernetes.io/cluster-id";
inline constexpr std::string_view k_label_cpu_type = "kubernetes.io/cpu-type";
inline constexpr std::string_view k_label_memory_size = "kubernetes.io/memory-size";
inline constexpr std::string_view k_label_cpu_cores = "kubernetes.io/cpu-cores";
inline constexpr std::string_view k_label_instance_type = "kubernetes.io/instance-type";

// {alias, full key}, in the order above.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 6> k_canonical_labels = {{
    {"zone", k_label_zone},
    {"cluster-id", k_label_cluster_id},
    {"cpu-type", k_label_cpu_type},
    {"memory-size", k_label_memory_size},
    {"cpu-cores", k_label_cpu_cores},
    {"instance-type", k_label_instance_type},
}};

// The full key for an alias, or `key` itself.
std::string_view full_label_key(std::string_view key);
bool is_canonical_label(std::string_view full_key);

using Labels = std::vector<std::pair<std::string, std::string>>;

// The six canonical labels of a node with these registration fields, in k_canonical_labels order.
Labels canonical_labels(const std::string& zone, const std::string& cluster_id, const std::string& cpu_type,
                        int64_t mem_bytes, int64_t cpu_m, const std::string& instance_type);

}  // namespace cube::sched
