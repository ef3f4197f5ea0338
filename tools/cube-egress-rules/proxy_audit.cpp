#include "proxy_audit.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "json_writer.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

namespace cube::egress {

std::string audit_line(const ConnEvent& e, int64_t now_ms) {
  json::Writer w;
  w.begin_object();
  w.field("ts", time::rfc3339_ms(now_ms));
  w.field("request_id", fmt::format("tls-{}", e.connection));
  w.field("event", e.event);
  w.key("sandbox");
  w.begin_object();
  w.field("src_ip", ipv4::format(e.src));
  if (!e.sandbox.empty()) w.field("policy_id", e.sandbox);
  w.end_object();
  w.key("conn");
  w.begin_object();
  w.field("original_dst_ip", ipv4::format(e.dst));
  w.field("original_dst_port", static_cast<int64_t>(e.dst_port));
  w.end_object();
  if (e.sni || !e.alpn.empty()) {
    w.key("tls");
    w.begin_object();
    if (e.sni) w.field("sni", *e.sni);
    if (!e.alpn.empty()) {
      w.key("client_alpn");
      w.begin_array();
      for (const auto& a : e.alpn) w.value(a);
      w.end_array();
    }
    w.end_object();
  }
  w.key("policy");
  w.begin_object();
  if (e.rule) w.field("matched_rule", *e.rule);
  w.field("decision", e.allow ? "allow" : "deny");
  if (!e.reason.empty()) w.field("reason", e.reason);
  w.end_object();
  if (e.bytes_up) {
    w.key("relay");
    w.begin_object();
    w.field("bytes_up", *e.bytes_up);
    w.field("bytes_down", e.bytes_down.value_or(0));
    w.field("duration_ms", e.duration_ms.value_or(0));
    w.end_object();
  }
  if (!e.security_reason.empty()) {
    w.key("security");
    w.begin_object();
    w.field("reason", e.security_reason);
    w.end_object();
  }
  w.end_object();
  return w.str() + "\n";
}

void AuditLog::write(const ConnEvent& e) { m_file.append(audit_line(e, time::now_ms())); }

}  // namespace cube::egress
