#include "stamp_clock.hpp"

#include "log.hpp"
#include "timeutil.hpp"

namespace cube::logs {

StampClock::StampClock(int64_t floor_ns, std::function<int64_t()> now)
    : m_now(now ? std::move(now) : std::function<int64_t()>(time::now_ns)), m_last(floor_ns) {}

std::string StampClock::stamp() {
  int64_t t = m_now();
  if (t < m_last) {
    if (!m_holding)
      log::warn("the clock went back {} ms: record times are held at {} until it catches up", (m_last - t) / 1'000'000,
                time::rfc3339_nano(m_last));
    m_holding = true;
    ++m_clamped;
    t = m_last;
  } else {
    m_holding = false;
  }
  m_last = t;
  return time::rfc3339_nano(t);
}

}  // namespace cube::logs
