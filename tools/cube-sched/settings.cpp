#include "settings.hpp"

#include "error.hpp"
#include "units.hpp"

namespace cube::sched {
namespace {

[[noreturn]] void bad(const config::Settings& s, std::string_view key, std::string_view why) {
  throw Error(Exit::usage, fmt::format("config [{}] {}: invalid value", s.table(), key), std::string(why));
}

double leaf_number(const config::Leaf& leaf, const config::Settings& s, const std::string& key) {
  if (leaf.kind == config::Leaf::Kind::real) return leaf.real;
  if (leaf.kind == config::Leaf::Kind::integer) return static_cast<double>(leaf.integer);
  bad(s, key, "expected a number");
}

// [sched.instance_types.<T>] tables, flattened as "<T>.<field>"; T may itself contain dots.
std::map<std::string, TypeOverride> load_types(config::Settings& s) {
  std::map<std::string, TypeOverride> out;
  for (const auto& [name, leaf] : s.subtable("instance_types")) {
    size_t dot = name.rfind('.');
    if (dot == std::string::npos) bad(s, "instance_types." + name, "expected a table per instance type");
    std::string type = name.substr(0, dot), field = name.substr(dot + 1);
    std::string key = "instance_types." + name;
    TypeOverride& t = out[type];
    if (field == "cpu_ratio" || field == "mem_ratio") {
      // Zero here means "not given": it clamps to the built-in default, not to the global ratio.
      if (!t.ratios) t.ratios = Ratios{0, 0};
      (field == "cpu_ratio" ? t.ratios->cpu : t.ratios->mem) = leaf_number(leaf, s, key);
    } else if (field == "mem_reserve") {
      if (leaf.kind != config::Leaf::Kind::string) bad(s, key, "expected a size such as \"4G\"");
      t.mem_reserve = static_cast<int64_t>(units::parse_size(leaf.text, fmt::format("[sched] {}", key)));
    } else if (field == "mem_reserve_percent") {
      t.mem_reserve_percent = leaf_number(leaf, s, key);
      if (!(t.mem_reserve_percent >= 0 && t.mem_reserve_percent <= 100)) bad(s, key, "expected 0 to 100");
    } else {
      bad(s, key, "known fields: cpu_ratio, mem_ratio, mem_reserve, mem_reserve_percent");
    }
  }
  for (auto& [type, t] : out)
    if (t.ratios)
      t.ratios =
          Ratios{clamp_ratio(t.ratios->cpu, k_default_cpu_ratio), clamp_ratio(t.ratios->mem, k_default_mem_ratio)};
  return out;
}

Strategy parse_strategy(config::Settings& s) {
  std::string name = s.text("score", "least-allocated");
  if (name == "least-allocated") return Strategy::least_allocated;
  if (name == "most-allocated") return Strategy::most_allocated;
  bad(s, "score", "expected \"least-allocated\" or \"most-allocated\"");
}

double weight(config::Settings& s, std::string_view key) {
  double w = s.number(key, 1);
  if (!(w >= 0 && w <= 1e6)) bad(s, key, "expected a weight from 0 to 1000000");
  return w;
}

Policy load_policy(config::Settings& s) {
  Policy p;
  p.ratios.cpu = clamp_ratio(s.number("cpu_ratio", k_default_cpu_ratio), k_default_cpu_ratio);
  p.ratios.mem = clamp_ratio(s.number("mem_ratio", k_default_mem_ratio), k_default_mem_ratio);
  p.types = load_types(s);
  p.ignore_recorded_allocations = s.boolean("ignore_recorded_allocations", false);
  p.cpu_util_ceiling = s.number("cpu_util_ceiling", 80);
  if (!(p.cpu_util_ceiling > 0 && p.cpu_util_ceiling <= 100)) bad(s, "cpu_util_ceiling", "expected 1 to 100 (percent)");
  p.mem_reserve = static_cast<int64_t>(s.size("mem_reserve", "10G"));
  p.heartbeat_timeout_ms = s.duration_ms("heartbeat_timeout", "40s");
  if (p.heartbeat_timeout_ms <= 0) bad(s, "heartbeat_timeout", "expected a positive duration");
  p.max_sandboxes = s.integer("max_sandboxes", 3000);
  if (p.max_sandboxes < 1) bad(s, "max_sandboxes", "expected at least 1");
  p.disk_ceiling = s.number("disk_usage_max_percent", 80);
  if (!(p.disk_ceiling > 0 && p.disk_ceiling <= 100)) bad(s, "disk_usage_max_percent", "expected 1 to 100 (percent)");
  p.create_limit = s.integer("create_limit", 50);
  if (p.create_limit < 1) bad(s, "create_limit", "expected at least 1");
  p.create_window_ms = s.duration_ms("create_window", "30s");
  if (p.create_window_ms <= 0) bad(s, "create_window", "expected a positive duration");
  p.selector_keys = s.list("selector_keys");
  p.strategy = parse_strategy(s);
  p.cpu_weight = weight(s, "score_cpu_weight");
  p.mem_weight = weight(s, "score_mem_weight");
  return p;
}

}  // namespace

Settings load_settings(config::Settings& s, const SettingFlags&) {
  Settings out{load_policy(s), s.text("disk_path", "")};
  s.finish();
  return out;
}

}  // namespace cube::sched
