// cube::sched::Policy — the [sched] config table as the placement code uses it (spec §7.1, §7.5).
//
// Keys: cpu_ratio, mem_ratio (overcommit, defaults 3 and 2); instance_types.<T>.{cpu_ratio,
// mem_ratio, mem_reserve, mem_reserve_percent} (a type's entry wins as a whole over the global
// ratios); ignore_recorded_allocations; cpu_util_ceiling (percent, 80); mem_reserve ("10G");
// heartbeat_timeout ("40s"); max_sandboxes (3000); selector_keys (extra allowed selector keys);
// score ("least-allocated" or "most-allocated"); score_cpu_weight, score_mem_weight (1 and 1).
// A ratio that is NaN, infinite or not positive falls back, per field, to its built-in default.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cube::sched {

inline constexpr double k_default_cpu_ratio = 3.0;
inline constexpr double k_default_mem_ratio = 2.0;

struct Ratios {
  double cpu = k_default_cpu_ratio;
  double mem = k_default_mem_ratio;
};

struct TypeOverride {
  std::optional<Ratios> ratios;  // set when the type's table names either ratio
  std::optional<int64_t> mem_reserve;
  double mem_reserve_percent = 0;
};

enum class Strategy { least_allocated, most_allocated };

struct Policy {
  Ratios ratios;
  std::map<std::string, TypeOverride> types;
  bool ignore_recorded_allocations = false;
  double cpu_util_ceiling = 80;
  int64_t mem_reserve = int64_t{10} << 30;
  int64_t heartbeat_timeout_ms = 40'000;
  int64_t max_sandboxes = 3000;
  std::vector<std::string> selector_keys;
  Strategy strategy = Strategy::least_allocated;
  double cpu_weight = 1;
  double mem_weight = 1;

  // The ratios that apply to a node of `instance_type`, clamped.
  Ratios ratios_for(const std::string& instance_type) const;
  // The physical memory reserve for a node of that type and memory quota (bytes), spec §7.5.
  int64_t mem_reserve_for(const std::string& instance_type, int64_t mem_quota) const;
};

// A NaN, infinite or non-positive ratio becomes `fallback`.
double clamp_ratio(double ratio, double fallback);
// floor(quota × ratio), NaN → 0, clamped to the int64 range.
int64_t effective_quota(int64_t quota, double ratio);

// Reads [sched] (recording each key's source in `settings`); throws Error(usage) on bad values.
Policy load_policy(config::Settings& settings);

std::string_view strategy_name(Strategy s);

}  // namespace cube::sched
