#include "cube-sched/heartbeat.hpp"
#include "cube-sched/metrics.hpp"

#include <gtest/gtest.h>

using namespace cube::sched;

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
