#include "proxy_notify.hpp"

#include "log.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstring>
#include <string>

namespace cube::egress {
namespace {

void notify(const std::string& state) {
  int r = ::sd_notify(0, state.c_str());
  if (r < 0) log::warn("cannot notify systemd ({}): {}", state.substr(0, state.find('\n')), std::strerror(-r));
}

}  // namespace

void Notifier::ready(std::string_view status) { notify(fmt::format("READY=1\nSTATUS={}", status)); }

void Notifier::stopping() { notify("STOPPING=1\nSTATUS=draining the open connections"); }

void Notifier::start_watchdog() {
  uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  m_usec = usec;
  ping();
}

void Notifier::ping() {
  notify("WATCHDOG=1");
  m_timer.expires_after(std::chrono::microseconds(m_usec / 2));
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

}  // namespace cube::egress
