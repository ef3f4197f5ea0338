// [egress] settings: config, then default (no flag overrides them yet).
#pragma once

#include "config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::egress {

struct Settings {
  uint64_t max_policy_size = 0;          // max_policy_size: one policy's JSON, and one import line
  std::vector<std::string> dns_servers;  // dns_servers: resolvers of sandboxes whose policy names none
  // TPROXY (redirect, dns-relay): the listeners on the gateway address, the mark the redirected
  // packets carry and the routing table that mark selects.
  uint16_t proxy_http_port = 8080;  // proxy_http_port
  uint16_t proxy_tls_port = 8443;   // proxy_tls_port
  uint16_t dns_relay_port = 8053;   // dns_relay_port
  uint32_t tproxy_mark = 0;         // tproxy_mark
  uint32_t tproxy_table = 0;        // tproxy_table
  std::string audit_log;            // audit_log: the proxy's JSON Lines audit file
  // serve, the process around the connections (limits, the audit file).
  int64_t hello_timeout_ms = 0;        // hello_timeout: a whole ClientHello within this
  int64_t idle_timeout_ms = 0;         // idle_timeout: a relayed connection with no byte this long is cut
  uint64_t max_conns_per_sandbox = 0;  // max_conns_per_sandbox: open connections of one sandbox
  uint64_t audit_max_size = 0;         // audit_max_size: the audit file rotates past this (0: never)
  // The proxy's decrypting and HTTP side: upstream trust, audit levels and bodies.
  std::string upstream_ca_file;    // upstream_ca_file: CAs trusted besides the system's ("": none)
  std::string audit_level;         // audit_level: none|metadata|full, for requests no rule decides
  uint64_t audit_body_max = 8192;  // audit_body_max: bytes of each body a full audit line keeps
};

Settings load_settings(config::Settings& s);

}  // namespace cube::egress
