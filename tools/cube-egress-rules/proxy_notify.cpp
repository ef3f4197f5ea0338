#include "proxy_notify.hpp"

#include "fd.hpp"
#include "log.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

// The notify protocol is one datagram on the AF_UNIX socket named by NOTIFY_SOCKET (a path, or an
// abstract name written with a leading '@'), as sd_notify(3) documents. Speaking it here instead of
// linking libsystemd keeps six libraries (libsystemd, libcap, libgcrypt, liblzma, libzstd, liblz4)
// out of every cube-egress-rules command's start, which the sandbox lifecycle pays on each `up`.

namespace cube::egress {
namespace {

// The socket's address, or nullopt (with the reason in `why`) when NOTIFY_SOCKET is unusable.
std::optional<std::pair<sockaddr_un, socklen_t>> notify_address(std::string_view path, std::string& why) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.size() >= sizeof sa.sun_path) {
    why = "NOTIFY_SOCKET is not an absolute path or an abstract '@' name that fits a socket address";
    return std::nullopt;
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (path[0] == '@') sa.sun_path[0] = '\0';
  // An abstract name's length is exact; a path's includes its terminating NUL.
  socklen_t len = offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '/' ? 1 : 0);
  return std::pair{sa, len};
}

void notify(const std::string& state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr) return;
  std::string why;
  auto addr = notify_address(env, why);
  if (addr) {
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd && ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr->first), addr->second) >= 0)
      return;
    why = std::strerror(errno);
  }
  log::warn("cannot notify systemd ({}): {}", state.substr(0, state.find('\n')), why);
}

// WATCHDOG_USEC, when systemd set it for this process (WATCHDOG_PID absent or ours), else 0.
uint64_t watchdog_usec_from_env() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return 0;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr && std::to_string(::getpid()) != pid) return 0;
  uint64_t v = 0;
  std::string_view s(usec);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && end == s.data() + s.size() ? v : 0;
}

}  // namespace

void Notifier::ready(std::string_view status) { notify(fmt::format("READY=1\nSTATUS={}", status)); }

void Notifier::stopping() { notify("STOPPING=1\nSTATUS=draining the open connections"); }

void Notifier::start_watchdog() {
  m_usec = watchdog_usec_from_env();
  if (m_usec != 0) ping();
}

void Notifier::ping() {
  notify("WATCHDOG=1");
  m_timer.expires_after(std::chrono::microseconds(m_usec / 2));
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

}  // namespace cube::egress
