// cube::egress dns_relay — the DNS forwarder behind the port-53 TPROXY rules (redirect.hpp).
//
// Contract (doc/cube-egress-rules.md "DNS learning"):
// - Listens on the gateway address with IP_TRANSPARENT sockets, UDP and TCP, on one port. A UDP
//   query's original destination comes from IP_RECVORIGDSTADDR; a TCP connection's from its local
//   address. The sandbox is the query's source address.
// - A query goes on, unchanged, to the resolver the guest asked (on its port) only when that
//   resolver is allowed for the sandbox (relay_policy.hpp); otherwise it is dropped (UDP) or the
//   connection closed (TCP). The relay never answers, blocks or rewrites anything itself: the
//   guest gets the resolver's answer as sent, from the resolver's address and port.
// - Every answer goes through the learner (dns_learner.hpp); a failure to learn is a warning, the
//   answer is still delivered.
// - One thread and one epoll loop, no thread or process per query; limits bound what a sandbox can
//   hold: k_max_pending UDP queries (each waits k_query_timeout_ms at most), k_max_connections TCP
//   connections (each closed after k_idle_timeout_ms without traffic), k_max_buffer bytes queued
//   per direction. Policies are re-read when the state file changes (every k_reload_ms at most).
// - run() returns on SIGTERM or SIGINT (blocked and taken through a signalfd).
#pragma once

#include "compiled.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace cube::egress {

inline constexpr size_t k_max_pending = 4096;
inline constexpr size_t k_max_connections = 512;
inline constexpr size_t k_max_buffer = 2 + 65535;
inline constexpr int64_t k_query_timeout_ms = 5000;
inline constexpr int64_t k_idle_timeout_ms = 10000;
inline constexpr int64_t k_reload_ms = 100;

struct RelayOptions {
  uint32_t address = 0;  // the gateway, host order
  uint16_t port = 8053;
  std::string state_path;
  CompileOptions compile;
};

struct RelayStats {
  uint64_t queries = 0;    // UDP queries and TCP connections received
  uint64_t forwarded = 0;  // of those, sent on to their resolver
  uint64_t refused = 0;    // of those, dropped: resolver not allowed, or over a limit
  uint64_t learned = 0;    // addresses added to learned sets
};

class DnsRelay {
 public:
  // Opens the state file and binds both listeners; throws Error when it cannot.
  explicit DnsRelay(RelayOptions options);
  ~DnsRelay();
  DnsRelay(const DnsRelay&) = delete;
  DnsRelay& operator=(const DnsRelay&) = delete;

  // Serves until SIGTERM or SIGINT; `ready` runs once the listeners are bound.
  RelayStats run(const std::function<void()>& ready);

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace cube::egress
