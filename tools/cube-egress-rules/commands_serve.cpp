// serve: the transparent L7 proxy (proxy_server.hpp).
#include "cluster_ca.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"
#include "proxy_server.hpp"

#include <fmt/format.h>

#include <thread>

namespace cube::egress::cmd {

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
