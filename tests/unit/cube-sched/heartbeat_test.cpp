#include "cube-sched/heartbeat.hpp"
#include "cube-sched/metrics.hpp"

#include "error.hpp"

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
  Heartbeat hb = measure(
      {.cpu_util = 12.5, .mem_free = 4096, .disk_used = 91.5, .disk_path = "/nonexistent", .ready = false}, since);
  EXPECT_EQ(hb.cpu_util, 12.5);
  EXPECT_EQ(hb.mem_free, 4096);
  EXPECT_EQ(hb.disk_used, 91.5) << "given, so /nonexistent was never measured";
  EXPECT_FALSE(hb.ready);
  EXPECT_GT(hb.at_ms, 0);
  EXPECT_FALSE(since) << "nothing was sampled";
}

TEST(SchedHeartbeat, DiskUsageAsDfCountsIt) {
  double used = disk_used_percent("/");
  EXPECT_GE(used, 0.0);
  EXPECT_LE(used, 100.0);
  Heartbeat hb = [] {
    std::optional<CpuTimes> since;
    HeartbeatInput in;
    in.cpu_util = 1;
    in.mem_free = 1;
    in.disk_path = "/";
    return measure(in, since);
  }();
  EXPECT_NEAR(hb.disk_used, used, 5.0);
  try {
    disk_used_percent("/nonexistent/store");
    FAIL() << "no error for a missing path";
  } catch (const cube::Error& e) {
    EXPECT_EQ(e.code(), cube::Exit::usage);
    EXPECT_NE(e.message().find("/nonexistent/store"), std::string::npos) << e.message();
  }
}
