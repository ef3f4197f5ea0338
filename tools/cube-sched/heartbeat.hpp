// cube::sched heartbeat — a node's periodic report (doc/cube-sched.md, "Heartbeats").
//
// Contract: measure() fills what the caller did not give: CPU utilisation over a short sample of
// /proc/stat (or since the previous report in a loop), MemAvailable and the disk usage of the
// store's file system. run_loop() reports forever,
// waiting before every report, the first included, a delay drawn uniformly from [t, 1.5t) so a
// fleet started together does not report in lock step; -vv logs each wait before it begins. A failed
// report is logged and the loop goes on; a signal ends it.
#pragma once

#include "metrics.hpp"
#include "registry.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace cube::sched {

struct HeartbeatInput {
  std::optional<double> cpu_util;
  std::optional<int64_t> mem_free;
  std::optional<double> disk_used;
  std::string disk_path;  // measured there when disk_used is not given
  bool ready = true;
};

// A heartbeat from the input, measuring the missing values. `since` is the previous CPU sample;
// without one, the CPU is sampled for 200 ms.
Heartbeat measure(const HeartbeatInput& in, std::optional<CpuTimes>& since);

// Sleeps time::jittered_ms(interval), uniform in [t, 1.5t), then calls report(); forever.
[[noreturn]] void run_loop(int64_t interval_ms, const std::function<void()>& report);

}  // namespace cube::sched
