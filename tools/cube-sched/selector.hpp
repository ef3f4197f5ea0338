// cube::sched selector — the node-affinity selector as validated requirements (doc/cube-sched.md,
// "Node-affinity selector").
//
// Contract: parse_selector() takes the raw `com.nodeaffinity.selector` text, a JSON array of
// {key, operator, values}, and checks limits before parsing further: ≤ 4096 bytes, then ≤ 10
// requirements, then per requirement a non-empty allowed key (the six canonical keys, their
// aliases, or a configured extra), a known operator (In NotIn Exists DoesNotExist Gt Lt,
// case-sensitive), 1–50 values for In/NotIn, none for Exists/DoesNotExist, exactly one for Gt/Lt.
// Every violation is Error(usage) naming `selector[i]` and the limit. Keys come back in full form.
// The colon-separated annotations become one `In` requirement each.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cube::sched {

inline constexpr std::string_view k_annotation_selector = "com.nodeaffinity.selector";
inline constexpr std::string_view k_annotation_instance_type = "com.nodeaffinity.instancetype";
inline constexpr std::string_view k_annotation_cluster_label = "com.nodeaffinity.cluster.label";

inline constexpr size_t k_max_selector_bytes = 4096;
inline constexpr size_t k_max_requirements = 10;
inline constexpr size_t k_max_values = 50;

enum class Op { in, not_in, exists, does_not_exist, gt, lt };
std::string_view op_name(Op op);

struct Requirement {
  std::string key;  // full label key
  Op op = Op::in;
  std::vector<std::string> values;
  std::string origin;  // "selector[2]", "annotation com.nodeaffinity.instancetype"
};

std::vector<Requirement> parse_selector(std::string_view text, const std::vector<std::string>& extra_keys);

// The required expressions of a request: the two colon-separated annotations, then the selector
// (from the annotation, or `selector_flag` when given; giving both is Error(usage)). Other
// annotations are ignored.
std::vector<Requirement> requirements_from(const std::map<std::string, std::string>& annotations,
                                           const std::string* selector_flag,
                                           const std::vector<std::string>& extra_keys);

// "zone In [a, b]" for explanations.
std::string describe(const Requirement& r);

}  // namespace cube::sched
