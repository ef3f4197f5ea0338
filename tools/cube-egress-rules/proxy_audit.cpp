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

namespace {

void write_where(json::Writer& w, const std::string& sandbox, uint32_t src, uint32_t dst, uint16_t port) {
  w.key("sandbox");
  w.begin_object();
  w.field("src_ip", ipv4::format(src));
  if (!sandbox.empty()) w.field("policy_id", sandbox);
  w.end_object();
  w.key("conn");
  w.begin_object();
  w.field("original_dst_ip", ipv4::format(dst));
  w.field("original_dst_port", static_cast<int64_t>(port));
  w.end_object();
}

void write_strings(json::Writer& w, std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  w.key(key);
  w.begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

void write_tls(json::Writer& w, const HttpEvent& e) {
  if (e.scheme != "https") return;
  w.key("tls");
  w.begin_object();
  if (e.sni) w.field("sni", *e.sni);
  if (!e.tls_version.empty()) w.field("version", e.tls_version);
  if (!e.cipher.empty()) w.field("cipher", e.cipher);
  write_strings(w, "client_alpn", e.alpn);
  w.end_object();
}

void write_http(json::Writer& w, const HttpEvent& e) {
  w.key("http");
  w.begin_object();
  w.field("scheme", e.scheme);
  if (!e.method.empty()) w.field("method", e.method);
  if (!e.host.empty()) w.field("host", e.host);
  if (!e.path.empty()) w.field("path", e.path);
  if (e.status) w.field("status", static_cast<int64_t>(e.status));
  w.field("req_bytes", e.req_bytes);
  w.field("resp_bytes", e.resp_bytes);
  if (e.user_agent) w.field("user_agent", *e.user_agent);
  w.end_object();
}

void write_outcome(json::Writer& w, const HttpEvent& e) {
  w.key("policy");
  w.begin_object();
  if (e.rule) w.field("matched_rule", *e.rule);
  w.field("decision", e.allow ? "allow" : "deny");
  if (!e.reason.empty()) w.field("reason", e.reason);
  if (!e.audit.empty()) w.field("audit", e.audit);
  w.field("duration_us", e.duration_us);
  w.end_object();
  if (!e.injected.empty()) {
    w.key("credentials");
    w.begin_object();
    write_strings(w, "injected", e.injected);
    write_strings(w, "secret_ids", e.secret_ids);
    w.end_object();
  }
  if (!e.security_reason.empty() || !e.inject_dropped.empty()) {
    w.key("security");
    w.begin_object();
    if (!e.security_reason.empty()) w.field("reason", e.security_reason);
    if (!e.inject_dropped.empty()) w.field("inject_dropped", e.inject_dropped);
    w.end_object();
  }
  if (e.upstream_status || e.upstream_addr) {
    w.key("upstream");
    w.begin_object();
    if (e.upstream_status) w.field("status", static_cast<int64_t>(*e.upstream_status));
    if (e.upstream_addr) w.field("addr", *e.upstream_addr);
    w.end_object();
  }
}

}  // namespace

std::string audit_line(const HttpEvent& e, int64_t now_ms) {
  json::Writer w;
  w.begin_object();
  w.field("ts", time::rfc3339_ms(now_ms));
  w.field("request_id", fmt::format("{}-{}", e.connection, e.request));
  w.field("event", e.event);
  write_where(w, e.sandbox, e.src, e.dst, e.dst_port);
  write_tls(w, e);
  write_http(w, e);
  write_outcome(w, e);
  if (!e.headers.empty()) {
    w.key("redacted_request_headers");
    w.begin_object();
    for (const auto& [k, v] : e.headers) w.field(k, v);
    w.end_object();
  }
  if (e.request_body) {
    w.key("request_body");
    w.raw(*e.request_body);
  }
  if (e.response_body) {
    w.key("response_body");
    w.raw(*e.response_body);
  }
  w.end_object();
  return w.str() + "\n";
}

void AuditLog::write(const ConnEvent& e) { m_file.append(audit_line(e, time::now_ms())); }
void AuditLog::write(const HttpEvent& e) { m_file.append(audit_line(e, time::now_ms())); }

}  // namespace cube::egress
