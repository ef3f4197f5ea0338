// cube::egress proxy_context — what every connection of the running proxy shares: its options,
// the current policy snapshot, the audit log, the connection limits and counters.
#pragma once

#include "compiled.hpp"
#include "proxy_audit.hpp"
#include "proxy_limits.hpp"
#include "proxy_snapshot.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace cube::egress {

struct ServeOptions {
  uint32_t listen_address = 0;
  uint16_t tls_port = 8443;
  std::string state_path;
  std::string audit_log;
  CompileOptions compile;
  unsigned threads = 1;
  int64_t hello_timeout_ms = 10'000;    // a ClientHello must arrive whole within this (slowloris)
  int64_t connect_timeout_ms = 10'000;  // to the original destination
  int64_t reload_ms = 50;               // how often the state file is asked whether it changed
  // The process around the connections: limits, drain, health, confinement, the audit file.
  int64_t idle_timeout_ms = 300'000;                    // a relayed connection that moves no byte this long is cut
  uint64_t max_conns_per_sandbox = 1024;                // open connections of one source address
  int64_t drain_timeout_ms = 10'000;                    // SIGTERM: how long open connections may go on
  std::optional<std::pair<uint32_t, uint16_t>> health;  // --health: a loopback address and port
  bool seccomp = true;                                  // --no-seccomp skips the allowlist
  uint64_t audit_max_size = 0;                          // rotate the audit file past this; 0: never
  // The decrypting and HTTP side (proxy_http.hpp, proxy_mitm.hpp).
  uint16_t http_port = 8080;
  std::string ca_cert, ca_key;          // the cluster CA that signs the leaves; none: decrypting is refused
  std::string upstream_ca_file;         // trusted upstream besides the system store
  Audit audit_level = Audit::metadata;  // requests no rule decides
  uint64_t audit_body_max = 8192;
  int64_t upstream_io_timeout_ms = 60'000;  // each read or write to the upstream
};

struct Interception;
struct UpstreamPools;
class NamesReader;

class ProxyContext {
 public:
  ProxyContext(const ServeOptions& o, AuditLog& audit) : options(o), audit(audit), limits(o.max_conns_per_sandbox) {}
  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(m_mutex);
    return m_snapshot;
  }
  void set_snapshot(std::shared_ptr<const Snapshot> s) {
    std::lock_guard lock(m_mutex);
    m_snapshot = std::move(s);
  }
  uint64_t next_connection() { return m_next.fetch_add(1, std::memory_order_relaxed); }

  const ServeOptions& options;
  AuditLog& audit;
  ConnLimits limits;
  Interception* interception = nullptr;  // set by serve() when the CA loads (proxy_mitm.hpp)
  UpstreamPools* pools = nullptr;        // set by serve(): kept upstream connections (proxy_pool.hpp)
  NamesReader* names = nullptr;          // set by serve(); opens the file lazily (learned_names.hpp)

 private:
  mutable std::mutex m_mutex;
  std::shared_ptr<const Snapshot> m_snapshot;  // null until the first load: every connection denied
  std::atomic<uint64_t> m_next{1};
};

}  // namespace cube::egress
