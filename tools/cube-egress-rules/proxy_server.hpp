// cube::egress proxy_server — `cube-egress-rules serve`: the listeners, the threads, the policy
// reload, the signals and the process's lifecycle (confinement, systemd notify, drain).
//
// Contract:
// - Binds an IP_TRANSPARENT listener on listen_address:tls_port (TPROXY delivers connections for
//   any destination to it; needs CAP_NET_ADMIN), loads the first snapshot, then runs one
//   io_context on `threads` threads (no thread per connection). Throws Error before serving when
//   it cannot bind or load.
// - Every reload_ms it asks the state file whether anything committed and, if so, loads a new
//   snapshot; a failed reload keeps the last good one and logs why.
// - Once the listeners (the TLS port, --health) are bound and the first snapshot is loaded, it
//   drops every capability and loads its seccomp allowlist (proxy_confine.hpp), then tells systemd
//   READY=1 and starts the watchdog pings (proxy_notify.hpp), before the loop's threads start.
// - SIGTERM or SIGINT: STOPPING=1, the listener closes, open connections go on until they end or
//   drain_timeout_ms passes, then it returns; a second signal cuts them at once. SIGHUP reopens
//   the audit log.
#pragma once

#include "proxy_context.hpp"

#include <functional>

namespace cube::egress {

// Runs until SIGTERM or SIGINT. `ready` is called once the listener is bound and the first
// snapshot is loaded.
void serve(const ServeOptions& options, const std::function<void()>& ready);

}  // namespace cube::egress
