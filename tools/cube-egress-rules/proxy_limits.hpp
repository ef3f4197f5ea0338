// cube::egress proxy_limits — what keeps one sandbox from exhausting the proxy for the others: a
// cap on each source address's open connections, and the idle timer of a relayed connection.
//
// Contract (doc/cube-egress-rules.md "Limits"):
// - ConnLimits::admit(source) gives a Slot while the source has fewer than `per_source` open
//   connections, else nothing; a Slot counts its connection until it is destroyed. open() is the
//   proxy's count of all of them (health, drain). A source's TAP address is its sandbox's, so the
//   cap is per sandbox; it is checked at accept, before any byte is read.
// - should_report(source) is true at most once a second per source, so that a flood of refusals
//   writes a few security events, not one per connection.
// - IdleTimer calls on_idle once when `activity` (a byte counter) has not moved for idle_ms; it is
//   checked four times per period, so a connection is cut within 1.25 periods of its last byte.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace cube::egress {

class ConnLimits {
 public:
  class Slot {
   public:
    Slot(Slot&& o) noexcept : m_limits(o.m_limits), m_source(o.m_source) { o.m_limits = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class ConnLimits;
    Slot(ConnLimits* l, uint32_t source) : m_limits(l), m_source(source) {}
    ConnLimits* m_limits;
    uint32_t m_source;
  };

  explicit ConnLimits(uint64_t per_source) : m_per_source(per_source) {}
  std::optional<Slot> admit(uint32_t source);
  bool should_report(uint32_t source, int64_t now_ms);
  uint64_t open() const;
  uint64_t open_of(uint32_t source) const;

 private:
  void release(uint32_t source);
  struct Source {
    uint64_t open = 0;
    int64_t reported_ms = -1'000'000;
  };
  uint64_t m_per_source;
  mutable std::mutex m_mutex;
  std::unordered_map<uint32_t, Source> m_sources;
  uint64_t m_open = 0;
};

class IdleTimer {
 public:
  explicit IdleTimer(const boost::asio::any_io_executor& ex) : m_timer(ex) {}
  IdleTimer(const IdleTimer&) = delete;
  IdleTimer& operator=(const IdleTimer&) = delete;
  ~IdleTimer() { *m_alive = false; }
  // The callbacks run on the timer's executor; they must not outlive what they capture (capture a
  // weak_ptr): the timer is cancelled when the IdleTimer is destroyed.
  void start(int64_t idle_ms, std::function<uint64_t()> activity, std::function<void()> on_idle);

 private:
  void arm();
  boost::asio::steady_timer m_timer;
  // A wait that completed before the destructor cancelled it still runs its handler: it checks this.
  std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
  int64_t m_idle_ms = 0;
  std::function<uint64_t()> m_activity;
  std::function<void()> m_on_idle;
  uint64_t m_last = 0;
  int64_t m_quiet_ms = 0;
};

}  // namespace cube::egress
