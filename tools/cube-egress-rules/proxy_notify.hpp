// cube::egress proxy_notify — systemd's notify protocol for `serve` (Type=notify, WatchdogSec=),
// spoken directly (sd_notify(3)), without linking libsystemd.
//
// Contract:
// - Without NOTIFY_SOCKET in the environment (not run by systemd) every call does nothing.
// - ready(): READY=1 with a STATUS line, once the listeners are bound and the first snapshot is
//   loaded. stopping(): STOPPING=1 when SIGTERM starts the drain.
// - start_watchdog(): when systemd asked for a watchdog (WATCHDOG_USEC for this PID), sends
//   WATCHDOG=1 every half of that period from a timer on the proxy's event loop, so a loop that
//   stops turning stops the pings and systemd restarts the proxy.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <string_view>

namespace cube::egress {

class Notifier {
 public:
  explicit Notifier(boost::asio::io_context& io) : m_timer(io) {}
  void ready(std::string_view status);
  void stopping();
  void start_watchdog();
  uint64_t watchdog_usec() const { return m_usec; }

 private:
  void ping();
  boost::asio::steady_timer m_timer;
  uint64_t m_usec = 0;
};

}  // namespace cube::egress
