// cube::egress proxy_audit — the proxy's audit log: JSON Lines, one event a line, keys with no
// value left out (doc/cube-egress-rules.md "Audit log").
//
// Contract:
// - AuditLog writes each line through an AuditFile (proxy_audit_file.hpp: whole lines, mode 0640,
//   reopen() on SIGHUP, rotation past max_size). A failed write is reported to stderr, never
//   fatal: the proxy keeps deciding.
// - Events carry no secret: secret_refs only; SNI and names as the client sent them.
//   tls_passthrough: {ts, request_id, event, sandbox{src_ip, policy_id}, conn{original_dst_ip,
//   original_dst_port}, tls{sni, client_alpn}, policy{matched_rule, decision, reason},
//   relay{bytes_up, bytes_down, duration_ms}} for a connection decided without decrypting (an
//   allowed one when it ends, a refused one at once).
//   security_event: the same keys but relay, plus security{reason} (no_policy, unknown_source,
//   no_rule_match, dst_not_of_name, client_hello_*, …).
//   tls_handshake: the keys of security_event, for a decrypted connection whose handshake failed
//   (a leaf that could not be minted, a client that refused it).
// - HttpEvent, one decrypted or plain-HTTP request: http_request {ts, request_id
//   ("<connection>-<request>"), event, sandbox, conn, tls{sni, version, cipher, client_alpn},
//   http{scheme, method, host, path (as sent, with its query), status, req_bytes, resp_bytes,
//   user_agent}, policy{matched_rule, decision, reason, audit, duration_us},
//   credentials{injected[], secret_ids[]}, security{reason, inject_dropped}, upstream{status,
//   addr}, redacted_request_headers{}, request_body, response_body}; the same shape as a
//   security_event line beside it when the request is one. Headers and bodies are redacted
//   before they reach the event (proxy_http_redact.hpp).
#pragma once

#include "proxy_audit_file.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct ConnEvent {
  std::string event;  // tls_passthrough | security_event
  uint64_t connection = 0;
  uint32_t src = 0, dst = 0;
  uint16_t dst_port = 0;
  std::string sandbox;  // policy_id; empty for an unknown source
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  std::optional<std::string> rule;
  bool allow = false;
  std::string reason;           // the decision's reason (rule_allow, not_l7_target, …)
  std::string security_reason;  // security_event only
  std::optional<uint64_t> bytes_up, bytes_down;
  std::optional<int64_t> duration_ms;
};

std::string audit_line(const ConnEvent& e, int64_t now_ms);

struct HttpEvent {
  std::string event = "http_request";  // or security_event
  uint64_t connection = 0, request = 0;
  uint32_t src = 0, dst = 0;
  uint16_t dst_port = 0;
  std::string sandbox;
  std::optional<std::string> sni;
  std::string tls_version, cipher;
  std::vector<std::string> alpn;
  std::string scheme, method, host, path;
  int status = 0;
  uint64_t req_bytes = 0, resp_bytes = 0;
  std::optional<std::string> user_agent;
  std::optional<std::string> rule;
  bool allow = false;
  std::string reason, audit;
  int64_t duration_us = 0;
  std::vector<std::string> injected, secret_ids;  // header names and secret_refs, never values
  std::string security_reason, inject_dropped;
  std::optional<int> upstream_status;
  std::optional<std::string> upstream_addr;
  std::vector<std::pair<std::string, std::string>> headers;  // already redacted
  std::optional<std::string> request_body, response_body;    // JSON values, already redacted
};

std::string audit_line(const HttpEvent& e, int64_t now_ms);

class AuditLog {
 public:
  // Throws Error naming the path when it cannot be opened.
  explicit AuditLog(std::string path, uint64_t max_size = 0) : m_file(std::move(path), max_size) {}
  void write(const ConnEvent& e);
  void write(const HttpEvent& e);
  void reopen() { m_file.reopen(); }
  const std::string& path() const { return m_file.path(); }

 private:
  AuditFile m_file;
};

}  // namespace cube::egress
