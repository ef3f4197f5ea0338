#include "settings.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <utility>

namespace cube::egress {

Settings load_settings(config::Settings& s) {
  Settings out;
  out.max_policy_size = s.size("max_policy_size", "16M");
  out.dns_servers = s.list("dns_servers");
  out.proxy_http_port = s.integer("proxy_http_port", 8080);
  out.proxy_tls_port = s.integer("proxy_tls_port", 8443);
  out.audit_log = s.text("audit_log", "/var/log/cube/egress-audit.jsonl");
  s.finish();
  for (auto [key, port] : {std::pair{"proxy_http_port", out.proxy_http_port}, {"proxy_tls_port", out.proxy_tls_port}})
    if (port < 1 || port > 65535)
      throw Error(Exit::usage, fmt::format("[egress] {} = {}: a port is 1 to 65535", key, port));
  return out;
}

}  // namespace cube::egress
