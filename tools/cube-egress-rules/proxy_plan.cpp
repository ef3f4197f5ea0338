#include "proxy_plan.hpp"

namespace cube::egress {
namespace {

bool needs_http(const CompiledRule& r) {
  return r.host || !r.methods.empty() || r.path_kind != CompiledRule::PathKind::any || !r.inject.empty();
}

// Whether the rule can match a request of which only the SNI and the scheme (https) are known.
bool can_match(const CompiledRule& r, const std::optional<std::string>& sni) {
  if (r.sni && (!sni || !r.sni->matches(*sni))) return false;
  return r.scheme != CompiledRule::Scheme::http;
}

}  // namespace

TlsPlan plan_tls(const CompiledPolicy& c, const std::optional<std::string>& sni, uint32_t dst) {
  Request r;
  r.scheme = "https";
  r.sni = sni;
  r.dst = dst;
  TlsPlan plan;
  if (!is_l7_request(c, r)) {
    plan.decision = decide(c, r);
    plan.action = plan.decision.allow ? TlsAction::relay : TlsAction::refuse;
    plan.by_name = plan.decision.allow && plan.decision.by == By::allow_domain;
    return plan;
  }
  // The rules in order. The matcher's index answers whole requests; a ClientHello is a partial one,
  // and the walk stops at the first rule that can match, so it is short unless many rules name
  // other SNIs first.
  for (uint32_t i = 0; i < c.matcher.size(); ++i) {
    const CompiledRule& rule = c.matcher.rule(i);
    if (!can_match(rule, sni)) continue;
    if (needs_http(rule)) {
      plan.action = TlsAction::decrypt;
      return plan;
    }
    plan.decision.rule = i;
    plan.decision.allow = rule.allow;
    plan.decision.reason = rule.allow ? Reason::rule_allow : Reason::rule_deny;
    plan.decision.audit = rule.audit;
    plan.action = rule.allow ? TlsAction::relay : TlsAction::refuse;
    plan.by_name = rule.allow && rule.sni.has_value();
    return plan;
  }
  plan.decision.reason = Reason::no_rule_match;
  plan.decision.security_event = true;
  return plan;
}

}  // namespace cube::egress
