#include "heartbeat.hpp"

#include "error.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <chrono>
#include <thread>

namespace cube::sched {
namespace {

constexpr auto k_cpu_sample = std::chrono::milliseconds(200);

}  // namespace

int64_t jittered_delay_ms(int64_t interval_ms, std::mt19937_64& rng) {
  // Half-open [t, 1.5t): uniform_int_distribution is closed, so the upper end is 1.5t − 1.
  int64_t spread = interval_ms / 2;
  if (spread <= 0) return interval_ms;
  return interval_ms + std::uniform_int_distribution<int64_t>(0, spread - 1)(rng);
}

Heartbeat measure(const HeartbeatInput& in, std::optional<CpuTimes>& since) {
  Heartbeat hb;
  hb.ready = in.ready;
  if (in.cpu_util) {
    hb.cpu_util = *in.cpu_util;
  } else {
    if (!since) {
      since = read_cpu_times();
      std::this_thread::sleep_for(k_cpu_sample);
    }
    CpuTimes now = read_cpu_times();
    hb.cpu_util = cpu_util_between(*since, now);
    since = now;
  }
  hb.mem_free = in.mem_free ? *in.mem_free : read_mem_available();
  hb.at_ms = time::now_ms();
  return hb;
}

void run_loop(int64_t interval_ms, const std::function<void()>& report) {
  std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(jittered_delay_ms(interval_ms, rng)));
    try {
      report();
    } catch (const Error& e) {
      // A busy state file or a node removed for maintenance must not end the node's reporting.
      log::warn("heartbeat failed: {}", e.message());
    }
  }
}

}  // namespace cube::sched
