#include "settings.hpp"

#include "error.hpp"

#include <fmt/format.h>

namespace cube::egress {
namespace {

uint16_t port(config::Settings& s, const char* key, int64_t fallback) {
  int64_t v = s.integer(key, fallback);
  if (v < 1 || v > 65535) throw Error(Exit::usage, fmt::format("[egress] {}: {} is no port", key, v), "", "1 to 65535");
  return static_cast<uint16_t>(v);
}

}  // namespace

Settings load_settings(config::Settings& s) {
  Settings out;
  out.max_policy_size = s.size("max_policy_size", "16M");
  out.dns_servers = s.list("dns_servers");
  out.proxy_http_port = port(s, "proxy_http_port", 8080);
  out.proxy_tls_port = port(s, "proxy_tls_port", 8443);
  out.dns_relay_port = port(s, "dns_relay_port", 8053);
  s.finish();
  return out;
}

}  // namespace cube::egress
