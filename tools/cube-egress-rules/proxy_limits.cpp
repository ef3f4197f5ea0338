#include "proxy_limits.hpp"

#include <chrono>

namespace cube::egress {

ConnLimits::Slot::~Slot() {
  if (m_limits) m_limits->release(m_source);
}

std::optional<ConnLimits::Slot> ConnLimits::admit(uint32_t source) {
  std::lock_guard lock(m_mutex);
  Source& s = m_sources[source];
  if (s.open >= m_per_source) return std::nullopt;
  ++s.open;
  ++m_open;
  return Slot(this, source);
}

void ConnLimits::release(uint32_t source) {
  std::lock_guard lock(m_mutex);
  --m_open;
  auto it = m_sources.find(source);
  // A source with nothing open and no recent report is forgotten: the map stays as small as the
  // set of busy sandboxes.
  if (--it->second.open == 0) m_sources.erase(it);
}

bool ConnLimits::should_report(uint32_t source, int64_t now_ms) {
  std::lock_guard lock(m_mutex);
  auto it = m_sources.find(source);
  if (it == m_sources.end()) return true;
  if (now_ms - it->second.reported_ms < 1000) return false;
  it->second.reported_ms = now_ms;
  return true;
}

uint64_t ConnLimits::open() const {
  std::lock_guard lock(m_mutex);
  return m_open;
}

uint64_t ConnLimits::open_of(uint32_t source) const {
  std::lock_guard lock(m_mutex);
  auto it = m_sources.find(source);
  return it == m_sources.end() ? 0 : it->second.open;
}

void IdleTimer::start(int64_t idle_ms, std::function<uint64_t()> activity, std::function<void()> on_idle) {
  m_idle_ms = idle_ms;
  m_activity = std::move(activity);
  m_on_idle = std::move(on_idle);
  m_last = m_activity();
  m_quiet_ms = 0;
  arm();
}

void IdleTimer::arm() {
  int64_t tick = std::max<int64_t>(1, m_idle_ms / 4);
  m_timer.expires_after(std::chrono::milliseconds(tick));
  m_timer.async_wait([this, tick, alive = m_alive](const boost::system::error_code& ec) {
    if (ec || !*alive) return;  // the IdleTimer is gone or going
    uint64_t now = m_activity();
    m_quiet_ms = now == m_last ? m_quiet_ms + tick : 0;
    m_last = now;
    if (m_quiet_ms >= m_idle_ms) return m_on_idle();
    arm();
  });
}

}  // namespace cube::egress
