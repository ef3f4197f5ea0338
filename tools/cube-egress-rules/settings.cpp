#include "settings.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <utility>

namespace cube::egress {
namespace {

int64_t in_range(config::Settings& s, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  int64_t v = s.integer(key, fallback);
  if (v < lo || v > hi) throw Error(Exit::usage, fmt::format("[egress] {} = {} is out of range {}-{}", key, v, lo, hi));
  return v;
}

}  // namespace

Settings load_settings(config::Settings& s) {
  Settings out;
  out.max_policy_size = s.size("max_policy_size", "16M");
  out.dns_servers = s.list("dns_servers");
  out.proxy_http_port = static_cast<uint16_t>(in_range(s, "proxy_http_port", 8080, 1, 65535));
  out.proxy_tls_port = static_cast<uint16_t>(in_range(s, "proxy_tls_port", 8443, 1, 65535));
  out.dns_relay_port = static_cast<uint16_t>(in_range(s, "dns_relay_port", 8053, 1, 65535));
  // "cube" in ASCII: a whole-word mark, unlikely to meet another user's bits.
  out.tproxy_mark = static_cast<uint32_t>(in_range(s, "tproxy_mark", 0x63756265, 1, 0xFFFFFFFF));
  // Upstream's table number; 253-255 are the kernel's default, main and local tables.
  out.tproxy_table = static_cast<uint32_t>(in_range(s, "tproxy_table", 100, 1, 252));
  out.audit_log = s.text("audit_log", "/var/log/cube/egress-audit.jsonl");
  // serve, the process around the connections (limits, the audit file).
  out.hello_timeout_ms = s.duration_ms("hello_timeout", "10s");
  out.idle_timeout_ms = s.duration_ms("idle_timeout", "5m");
  out.max_conns_per_sandbox = static_cast<uint64_t>(in_range(s, "max_conns_per_sandbox", 1024, 1, 1'000'000));
  out.audit_max_size = s.size("audit_max_size", "256M");
  if (out.hello_timeout_ms <= 0 || out.idle_timeout_ms <= 0)
    throw Error(Exit::usage, "[egress] hello_timeout and idle_timeout must be longer than 0");
  // The proxy's decrypting and HTTP side.
  out.upstream_ca_file = s.text("upstream_ca_file", "");
  out.audit_level = s.text("audit_level", "metadata");
  if (out.audit_level != "none" && out.audit_level != "metadata" && out.audit_level != "full")
    throw Error(Exit::usage, fmt::format("[egress] audit_level = {}: not none, metadata or full", out.audit_level));
  out.audit_body_max = s.size("audit_body_max", "8K");
  s.finish();
  return out;
}

}  // namespace cube::egress
