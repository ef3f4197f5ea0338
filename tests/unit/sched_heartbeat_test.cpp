#include "../../tools/cube-sched/heartbeat.hpp"
#include "../../tools/cube-sched/metrics.hpp"

#include <gtest/gtest.h>

using namespace cube::sched;

TEST(SchedHeartbeat, JitterIsUniformInTheHalfOpenRange) {
  std::mt19937_64 rng(42);
  int64_t lo = INT64_MAX, hi = 0;
  int low_half = 0;
  for (int i = 0; i < 20000; ++i) {
    int64_t d = jittered_delay_ms(1000, rng);
    ASSERT_GE(d, 1000);
    ASSERT_LT(d, 1500);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    low_half += d < 1250;
  }
  EXPECT_LT(lo, 1010) << "the whole range is used";
  EXPECT_GT(hi, 1490);
  EXPECT_NEAR(low_half, 10000, 500) << "uniform, not skewed";
  EXPECT_EQ(jittered_delay_ms(1, rng), 1);
}

TEST(SchedHeartbeat, CpuUtilisationBetweenSamples) {
  EXPECT_DOUBLE_EQ(cpu_util_between({100, 200}, {150, 300}), 50.0);
  EXPECT_DOUBLE_EQ(cpu_util_between({100, 200}, {100, 200}), 0.0);
  EXPECT_DOUBLE_EQ(cpu_util_between({100, 200}, {100, 300}), 100.0);
  CpuTimes now = read_cpu_times();
  EXPECT_GT(now.total, now.idle);
  EXPECT_GT(read_mem_available(), 0);
}

TEST(SchedHeartbeat, MeasureKeepsGivenValues) {
  std::optional<CpuTimes> since;
  Heartbeat hb = measure({12.5, 4096, false}, since);
  EXPECT_EQ(hb.cpu_util, 12.5);
  EXPECT_EQ(hb.mem_free, 4096);
  EXPECT_FALSE(hb.ready);
  EXPECT_GT(hb.at_ms, 0);
  EXPECT_FALSE(since) << "nothing was sampled";
}
