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
  int64_t proxy_http_port = 8080;        // proxy_http_port: where TPROXY sends sandboxes' TCP 80
  int64_t proxy_tls_port = 8443;         // proxy_tls_port: where TPROXY sends sandboxes' TCP 443
  std::string audit_log;                 // audit_log: the proxy's JSON Lines audit file
};

Settings load_settings(config::Settings& s);

}  // namespace cube::egress
