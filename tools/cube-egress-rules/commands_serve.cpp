// serve: the transparent L7 proxy (proxy_server.hpp).
#include "cluster_ca.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"
#include "proxy_server.hpp"
#include "units.hpp"

#include <fmt/format.h>

#include <thread>

namespace cube::egress::cmd {
namespace {

// --health ADDR:PORT: an address of 127.0.0.0/8 only, since /healthz answers anyone who reaches it.
std::pair<uint32_t, uint16_t> health_address(const std::string& text) {
  auto colon = text.rfind(':');
  auto addr = ipv4::parse_address(colon == std::string::npos ? text : text.substr(0, colon));
  int64_t port = 0;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      port = std::stoll(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1) port = 0;
    } catch (const std::exception&) {
    }
  }
  if (!addr || port < 1 || port > 65535)
    throw Error(Exit::usage, fmt::format("--health {}: expected ADDR:PORT, like 127.0.0.1:9443", text));
  if ((*addr >> 24) != 127)
    throw Error(Exit::usage, fmt::format("--health {}: not a loopback address", text),
                "the health endpoint answers without authentication; give an address of 127.0.0.0/8");
  return {*addr, static_cast<uint16_t>(port)};
}

}  // namespace

void serve(cli::Context& tool, const ServeArgs& a) {
  Settings s = settings(tool);
  ServeOptions o;
  o.state_path = tool.state_path();
  o.tls_port = static_cast<uint16_t>(s.proxy_tls_port);
  // The decrypting and HTTP side.
  o.http_port = s.proxy_http_port;
  cluster_ca::Paths ca = cluster_ca::paths(tool.config());
  o.ca_cert = ca.cert;
  o.ca_key = ca.key;
  o.upstream_ca_file = s.upstream_ca_file;
  o.audit_level = s.audit_level == "none" ? Audit::none : s.audit_level == "full" ? Audit::full : Audit::metadata;
  o.audit_body_max = s.audit_body_max;
  o.audit_log = a.audit_log.value_or(s.audit_log);
  o.compile = compile_options(s);
  o.hello_timeout_ms = s.hello_timeout_ms;
  o.idle_timeout_ms = s.idle_timeout_ms;
  o.max_conns_per_sandbox = s.max_conns_per_sandbox;
  o.audit_max_size = s.audit_max_size;
  o.drain_timeout_ms = units::parse_duration_ms(a.drain_timeout, "--drain-timeout");
  o.seccomp = !a.no_seccomp;
  if (!a.health.empty()) o.health = health_address(a.health);
  o.threads = a.threads > 0 ? static_cast<unsigned>(a.threads) : std::max(1u, std::thread::hardware_concurrency());
  if (!a.listen.empty()) {
    auto addr = ipv4::parse_address(a.listen);
    if (!addr) throw Error(Exit::usage, fmt::format("--listen {}: not an IPv4 address", a.listen));
    o.listen_address = *addr;
  } else {
    auto db = tool.open_state(state::Access::read);
    auto gw = node_gateway(db);
    if (!gw)
      throw Error(Exit::usage, "no address to listen on", "the node has no gateway yet (cube-tap setup)",
                  "give --listen ADDR");
    o.listen_address = *gw;
  }
  serve(o, [&] {
    log::info("serving on {}:{} (TLS) and :{} (HTTP), audit log {}", ipv4::format(o.listen_address), o.tls_port,
              o.http_port, o.audit_log);
  });
}

}  // namespace cube::egress::cmd
