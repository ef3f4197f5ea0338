#include "policy.hpp"

#include <cmath>
#include <limits>

namespace cube::sched {

double clamp_ratio(double ratio, double fallback) { return std::isfinite(ratio) && ratio > 0 ? ratio : fallback; }

int64_t effective_quota(int64_t quota, double ratio) {
  double v = std::floor(static_cast<double>(quota) * ratio);
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

Ratios Policy::ratios_for(const std::string& instance_type) const {
  auto it = types.find(instance_type);
  if (it != types.end() && it->second.ratios) return *it->second.ratios;
  return ratios;
}

int64_t Policy::mem_reserve_for(const std::string& instance_type, int64_t mem_quota) const {
  auto ceil_part = [&](double percent) {
    return static_cast<int64_t>(std::ceil(static_cast<double>(mem_quota) * percent / 100.0));
  };
  int64_t reserve = mem_reserve;
  auto it = types.find(instance_type);
  if (it != types.end() && it->second.mem_reserve)
    reserve = *it->second.mem_reserve;
  else if (it != types.end() && it->second.mem_reserve_percent > 0)
    reserve = ceil_part(it->second.mem_reserve_percent);
  // A reserve that would swallow the whole node leaves a tenth of it instead (doc/cube-sched.md,
  // "Filters").
  if (reserve >= mem_quota) reserve = ceil_part(10);
  return reserve < 0 ? 0 : reserve;
}

std::string_view strategy_name(Strategy s) {
  return s == Strategy::most_allocated ? "most-allocated" : "least-allocated";
}

}  // namespace cube::sched
