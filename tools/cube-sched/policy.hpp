// cube::sched::Policy — the placement rules the [sched] table sets (settings.cpp reads them), as
// the placement code uses them: overcommit ratios and their per-instance-type overrides, the limits
// of the physical guards, the heartbeat timeout, the sandbox limit and the score. The numbers and
// why: doc/cube-sched.md, "Configuration" and "Filters".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
  double disk_ceiling = 80;           // disk_usage_max_percent
  int64_t create_limit = 50;          // sandboxes in creation per node
  int64_t create_window_ms = 30'000;  // an allocation not marked started stops counting after this
  std::vector<std::string> selector_keys;
  Strategy strategy = Strategy::least_allocated;
  double cpu_weight = 1;
  double mem_weight = 1;

  // The ratios that apply to a node of `instance_type`, clamped.
  Ratios ratios_for(const std::string& instance_type) const;
  // The physical memory reserve for a node of that type and memory quota (bytes); a reserve that
  // would swallow the whole node becomes a tenth of it.
  int64_t mem_reserve_for(const std::string& instance_type, int64_t mem_quota) const;
  // Allocations placed after this (Unix ms) and not marked started are in creation.
  int64_t creating_after(int64_t now_ms) const { return now_ms - create_window_ms; }
};

// A NaN, infinite or non-positive ratio becomes `fallback`.
double clamp_ratio(double ratio, double fallback);
// floor(quota × ratio), NaN → 0, clamped to the int64 range.
int64_t effective_quota(int64_t quota, double ratio);

std::string_view strategy_name(Strategy s);

}  // namespace cube::sched
