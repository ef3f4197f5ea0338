// cube::sched settings — the [sched] config table, every key read in this one place (config, then
// built-in default: no [sched] key has a flag), so that no verb warns about another verb's key.
//
// Keys: cpu_ratio, mem_ratio (overcommit, defaults 3 and 2); instance_types.<T>.{cpu_ratio,
// mem_ratio, mem_reserve, mem_reserve_percent} (a type's entry wins as a whole over the global
// ratios); ignore_recorded_allocations; cpu_util_ceiling (percent, 80); mem_reserve ("10G");
// heartbeat_timeout ("40s"); max_sandboxes (3000); selector_keys (extra allowed selector keys);
// score ("least-allocated" or "most-allocated"); score_cpu_weight, score_mem_weight (1 and 1);
// disk_usage_max_percent (80); create_limit (50) and create_window ("30s"); disk_path (the file
// system whose usage a heartbeat reports; empty: the state file's directory, where the stores live).
// A ratio that is NaN, infinite or not positive falls back, per field, to its built-in default.
// Why these numbers: doc/cube-sched.md, "Configuration".
#pragma once

#include "config.hpp"
#include "policy.hpp"

namespace cube::sched {

// The [sched] keys that a flag can set: none; the struct keeps the shape every tool shares.
struct SettingFlags {};

struct Settings {
  Policy policy;
  std::string disk_path;  // "": the state file's directory
};

// Reads [sched], recording each key's source in `s`, then warns once about each key it does not
// know. A bad value is Error(usage) naming the key.
Settings load_settings(config::Settings& s, const SettingFlags& flags = {});

}  // namespace cube::sched
