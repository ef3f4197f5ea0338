#include "heartbeat.hpp"

#include "error.hpp"
#include "log.hpp"
#include "timeutil.hpp"

namespace cube::sched {
namespace {

constexpr int64_t k_cpu_sample_ms = 200;

}  // namespace

Heartbeat measure(const HeartbeatInput& in, std::optional<CpuTimes>& since) {
  Heartbeat hb;
  hb.ready = in.ready;
  if (in.cpu_util) {
    hb.cpu_util = *in.cpu_util;
  } else {
    if (!since) {
      since = read_cpu_times();
      time::sleep_ms(k_cpu_sample_ms);
    }
    CpuTimes now = read_cpu_times();
    hb.cpu_util = cpu_util_between(*since, now);
    since = now;
  }
  hb.mem_free = in.mem_free ? *in.mem_free : read_mem_available();
  hb.disk_used = in.disk_used ? *in.disk_used : disk_used_percent(in.disk_path);
  hb.at_ms = time::now_ms();
  return hb;
}

void run_loop(int64_t interval_ms, const std::function<void()>& report) {
  for (;;) {
    int64_t wait_ms = time::jittered_ms(interval_ms);
    // Also what tells a test that the loop is waiting, without a fixed sleep of its own.
    log::debug("next heartbeat in {} ms", wait_ms);
    time::sleep_ms(wait_ms);
    try {
      report();
    } catch (const Error& e) {
      // A busy state file or a node removed for maintenance must not end the node's reporting.
      log::warn("heartbeat failed: {}", e.message());
    }
  }
}

}  // namespace cube::sched
