// cube::egress proxy_server — `cube-egress-rules serve`: the listeners, the threads, the policy
// reload and the signals.
//
// Contract:
// - Binds an IP_TRANSPARENT listener on listen_address:tls_port (TPROXY delivers connections for
//   any destination to it; needs CAP_NET_ADMIN), loads the first snapshot, then runs one
//   io_context on `threads` threads (no thread per connection). Throws Error before serving when
//   it cannot bind or load.
// - Every reload_ms it asks the state file whether anything committed and, if so, loads a new
//   snapshot; a failed reload keeps the last good one and logs why.
// - SIGTERM and SIGINT stop it (open connections are cut); SIGHUP reopens the audit log.
#pragma once

#include "proxy_context.hpp"

#include <functional>

namespace cube::egress {

// Runs until SIGTERM or SIGINT. `ready` is called once the listener is bound and the first
// snapshot is loaded.
void serve(const ServeOptions& options, const std::function<void()>& ready);

}  // namespace cube::egress
