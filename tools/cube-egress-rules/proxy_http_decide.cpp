#include "proxy_http_decide.hpp"

namespace cube::egress {
namespace {

// The name an allow rests on, if any.
std::optional<std::string> name_of(const Verdict& v, const Request& r) {
  const Decision& d = v.decision;
  if (d.by == By::allow_domain) {
    if (r.sni && v.policy->allow_domain_trie.matches(*r.sni)) return r.sni;
    return r.host;
  }
  const CompiledRule* rule = v.rule();
  if (!rule) return std::nullopt;
  if (rule->sni) return r.sni;
  if (rule->host && r.host && !parse_ipv4(*r.host)) return r.host;
  return std::nullopt;
}

}  // namespace

Verdict decide_http(const Snapshot* s, uint32_t src, const Request& r) {
  Verdict v;
  if (!s) {
    v.security_reason = "no_policy_loaded";
    return v;
  }
  Lookup l = find_source(*s, src);
  v.sandbox = l.sandbox;
  if (l.status == Lookup::Status::unknown_source) v.security_reason = "unknown_source";
  if (l.status == Lookup::Status::no_policy) v.security_reason = "no_policy";
  if (l.status != Lookup::Status::ok) return v;
  v.policy = l.policy;
  v.secrets = l.secrets;
  if (!r.path) {
    v.security_reason = "bad_path";
    return v;
  }
  v.decision = decide(*v.policy, r);
  v.decided = true;
  if (v.decision.security_event) v.security_reason = std::string(reason_name(v.decision.reason));
  if (v.decision.allow) v.name = name_of(v, r);
  return v;
}

}  // namespace cube::egress
