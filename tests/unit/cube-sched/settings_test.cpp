// The [sched] table read into a Policy: per-type overrides, fallbacks, bad values, and every key
// recorded with its source.
#include "cube-sched/settings.hpp"

#include "config.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace cube;
using namespace cube::sched;

namespace {

constexpr int64_t k_gib = int64_t{1} << 30;

}  // namespace

TEST(SchedSettings, PerTypeOverridesWinAsAWhole) {
  auto cfg = config::Config::parse(R"(
[sched]
cpu_ratio = 4.0
mem_ratio = 5.0
[sched.instance_types.big]
cpu_ratio = 1.5
[sched.instance_types.weird]
cpu_ratio = nan
mem_ratio = -3
[sched.instance_types."dotted.type"]
mem_ratio = 1
mem_reserve = "4G"
[sched.instance_types.pct]
mem_reserve_percent = 5
)",
                                   "test.toml");
  config::Settings s(cfg, "sched");
  Policy p = load_settings(s).policy;
  EXPECT_EQ(p.ratios_for("").cpu, 4.0);
  EXPECT_EQ(p.ratios_for("").mem, 5.0);
  EXPECT_EQ(p.ratios_for("big").cpu, 1.5);
  EXPECT_EQ(p.ratios_for("big").mem, k_default_mem_ratio) << "a missing field takes the default, not the global";
  EXPECT_EQ(p.ratios_for("weird").cpu, k_default_cpu_ratio);
  EXPECT_EQ(p.ratios_for("weird").mem, k_default_mem_ratio);
  EXPECT_EQ(p.ratios_for("dotted.type").mem, 1.0);
  EXPECT_EQ(p.ratios_for("pct").cpu, 4.0) << "a type without ratios keeps the global ones";
  EXPECT_EQ(p.mem_reserve_for("dotted.type", 64 * k_gib), 4 * k_gib);
  EXPECT_EQ(p.mem_reserve_for("pct", 100 * k_gib), 5 * k_gib);
  EXPECT_EQ(p.mem_reserve_for("", 64 * k_gib), 10 * k_gib);
  EXPECT_EQ(p.mem_reserve_for("", 8 * k_gib), static_cast<int64_t>(std::ceil(8 * k_gib * 0.1)))
      << "a reserve at least the quota becomes 10%";
}

TEST(SchedSettings, GlobalNanFallsBack) {
  auto cfg = config::Config::parse("[sched]\ncpu_ratio = nan\nmem_ratio = inf\n", "t.toml");
  config::Settings s(cfg, "sched");
  Policy p = load_settings(s).policy;
  EXPECT_EQ(p.ratios.cpu, k_default_cpu_ratio);
  EXPECT_EQ(p.ratios.mem, k_default_mem_ratio);
}

TEST(SchedSettings, BadValuesAreUsageErrors) {
  for (const char* text :
       {"[sched]\nscore = \"random\"\n", "[sched]\ncpu_util_ceiling = 0\n", "[sched]\nheartbeat_timeout = \"0s\"\n",
        "[sched.instance_types.x]\ncolour = 1\n", "[sched]\nmax_sandboxes = 0\n"}) {
    auto cfg = config::Config::parse(text, "t.toml");
    config::Settings s(cfg, "sched");
    try {
      load_settings(s);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << text;
    }
  }
}

TEST(SchedSettings, EveryKeyHasADefaultAndASource) {
  auto cfg = config::Config::parse("[sched]\nmem_ratio = 1.5\n", "t.toml");
  config::Settings s(cfg, "sched");
  Policy p = load_settings(s).policy;
  EXPECT_EQ(p.ratios.cpu, k_default_cpu_ratio);
  EXPECT_EQ(p.ratios.mem, 1.5);
  EXPECT_FALSE(p.ignore_recorded_allocations);
  EXPECT_EQ(p.cpu_util_ceiling, 80);
  EXPECT_EQ(p.mem_reserve, 10 * k_gib);
  EXPECT_EQ(p.heartbeat_timeout_ms, 40'000);
  EXPECT_EQ(p.max_sandboxes, 3000);
  EXPECT_TRUE(p.selector_keys.empty());
  EXPECT_EQ(p.strategy, Strategy::least_allocated);
  EXPECT_EQ(p.cpu_weight, 1);
  EXPECT_EQ(p.mem_weight, 1);
  std::map<std::string, config::Source> sources;
  for (const auto& e : s.entries()) sources[e.key] = e.source;
  for (const char* key :
       {"cpu_ratio", "ignore_recorded_allocations", "cpu_util_ceiling", "mem_reserve", "heartbeat_timeout",
        "max_sandboxes", "selector_keys", "score", "score_cpu_weight", "score_mem_weight"})
    EXPECT_EQ(sources[key], config::Source::default_value) << key;
  EXPECT_EQ(sources["mem_ratio"], config::Source::config);
}
