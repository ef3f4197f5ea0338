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
  uint16_t proxy_http_port = 8080;       // proxy_http_port: the proxy's HTTP listener on the gateway
  uint16_t proxy_tls_port = 8443;        // proxy_tls_port: the proxy's TLS listener on the gateway
  uint16_t dns_relay_port = 8053;        // dns_relay_port: the DNS relay's port on the gateway
};

Settings load_settings(config::Settings& s);

}  // namespace cube::egress
