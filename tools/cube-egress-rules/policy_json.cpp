#include "policy_json.hpp"

#include "secrets.hpp"

namespace cube::egress {
namespace {

void write_strings(json::Writer& w, std::string_view key, const std::vector<std::string>& items) {
  w.key(key);
  w.begin_array();
  for (const auto& s : items) w.value(s);
  w.end_array();
}

template <typename T>
void write_optional(json::Writer& w, std::string_view key, const std::optional<T>& v) {
  if (v) w.field(key, *v);
}

void write_match(json::Writer& w, const Match& m) {
  w.key("match");
  w.begin_object();
  write_optional(w, "sni", m.sni);
  write_optional(w, "host", m.host);
  if (!m.method.empty()) write_strings(w, "method", m.method);
  write_optional(w, "path", m.path);
  write_optional(w, "scheme", m.scheme);
  w.end_object();
}

void write_inject(json::Writer& w, const Inject& in, SecretOutput secrets) {
  w.begin_object();
  w.field("header", in.header);
  if (secrets == SecretOutput::included) w.field("secret", in.secret);
  if (secrets == SecretOutput::redacted) w.field("secret", redacted());
  w.field("secretRef", in.secret_ref);
  write_optional(w, "format", in.format);
  w.end_object();
}

void write_rule(json::Writer& w, const Rule& r, SecretOutput secrets) {
  w.begin_object();
  w.field("name", r.name);
  write_match(w, r.match);
  w.key("action");
  w.begin_object();
  w.field("allow", r.allow);
  if (r.audit) w.field("audit", audit_name(*r.audit));
  if (!r.inject.empty()) {
    w.key("inject");
    w.begin_array();
    for (const auto& in : r.inject) write_inject(w, in, secrets);
    w.end_array();
  }
  w.end_object();
  w.end_object();
}

}  // namespace

void write_policy(json::Writer& w, const Policy& p, SecretOutput secrets) {
  w.begin_object();
  write_optional(w, "allowInternetAccess", p.allow_internet_access);
  write_strings(w, "allowOut", p.allow_out);
  write_strings(w, "denyOut", p.deny_out);
  if (!p.dns_servers.empty()) write_strings(w, "dnsServers", p.dns_servers);
  w.key("rules");
  w.begin_array();
  for (const auto& r : p.rules) write_rule(w, r, secrets);
  w.end_array();
  w.end_object();
}

std::string policy_json(const Policy& p, SecretOutput secrets) {
  json::Writer w;
  write_policy(w, p, secrets);
  return w.take();
}

}  // namespace cube::egress
