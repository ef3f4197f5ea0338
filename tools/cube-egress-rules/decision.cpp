#include "decision.hpp"

#include <fmt/format.h>

namespace cube::egress {
namespace {

bool address_is_l7(const CompiledPolicy& c, const std::optional<std::string>& host) {
  if (!host) return false;
  auto a = parse_ipv4(*host);
  return a && c.l7_address_set.find(*a).has_value();
}

Decision l3l4(const CompiledPolicy& c, const Request& r) {
  Decision d;
  d.reason = Reason::not_l7_target;
  for (const auto* name : {&r.sni, &r.host}) {
    if (!*name || (name == &r.host && r.host == r.sni)) continue;
    if (auto i = c.allow_domain_trie.first(**name)) {
      d.allow = true;
      d.by = By::allow_domain;
      d.entry = *i;
      return d;
    }
  }
  if (!r.dst) {
    d.by = By::no_destination;
    return d;
  }
  if (auto i = c.allow_set.find(*r.dst)) {
    d.allow = true;
    d.by = By::allow_address;
    d.entry = *i;
  } else if (auto j = c.deny_set.find(*r.dst)) {
    d.by = By::deny_address;
    d.entry = *j;
  } else {
    d.allow = true;
    d.by = By::internet_allowed;
  }
  return d;
}

// G1 and G4 for an allowing rule with injects.
void gate(const CompiledRule& rule, const Request& r, Decision& d) {
  if (rule.inject.empty()) return;
  if (r.scheme != "https") {
    d.reason = Reason::g1_not_https;
  } else if (!r.sni || !r.host) {
    d.reason = Reason::g4_missing_sni_or_host;
    d.security_event = true;
  } else if (*r.sni != *r.host) {
    d.reason = Reason::g4_host_sni_mismatch;
    d.security_event = true;
  } else {
    d.inject = true;
  }
}

std::string allow_text(const AllowEntry& e) {
  if (e.flags & AllowFlag::allow_out) return "allow_out:" + e.cidr.text();
  if (e.flags & AllowFlag::dns_server) return "dns_server:" + e.cidr.text();
  return "l7_target:" + e.cidr.text();
}

}  // namespace

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::rule_allow: return "rule_allow";
    case Reason::rule_deny: return "rule_deny";
    case Reason::no_rule_match: return "no_rule_match";
    case Reason::not_l7_target: return "not_l7_target";
    case Reason::g1_not_https: return "g1_not_https";
    case Reason::g4_missing_sni_or_host: return "g4_missing_sni_or_host";
    case Reason::g4_host_sni_mismatch: return "g4_host_sni_mismatch";
  }
  return "unknown";
}

bool is_l7_request(const CompiledPolicy& c, const Request& r) {
  if (r.sni && c.l7_name_trie.matches(*r.sni)) return true;
  if (r.host && r.host != r.sni && c.l7_name_trie.matches(*r.host)) return true;  // usually SNI == Host
  if (c.l7_address_set.empty()) return false;
  return address_is_l7(c, r.host) || (r.dst && c.l7_address_set.find(*r.dst));
}

Decision decide(const CompiledPolicy& c, const Request& r) {
  if (!is_l7_request(c, r)) return l3l4(c, r);
  Decision d;
  d.rule = c.matcher.first_match(r);
  if (!d.rule) {
    d.security_event = true;
    return d;
  }
  const CompiledRule& rule = c.matcher.rule(*d.rule);
  d.audit = rule.audit;
  d.allow = rule.allow;
  d.reason = rule.allow ? Reason::rule_allow : Reason::rule_deny;
  if (rule.allow) gate(rule, r, d);
  return d;
}

std::string by_text(const CompiledPolicy& c, const Decision& d) {
  switch (d.by) {
    case By::none: return {};
    case By::allow_domain: return "allow_out_domain:" + c.allow_domains[d.entry].text();
    case By::allow_address: return allow_text(c.allow[d.entry]);
    case By::deny_address: {
      const DenyEntry& e = c.deny[d.entry];
      if (e.kind == DenyKind::internet_disabled) return "internet_disabled";
      return (e.kind == DenyKind::private_range ? "private_range:" : "deny_out:") + e.cidr.text();
    }
    case By::internet_allowed: return "internet_allowed";
    case By::no_destination: return "no_dst";
  }
  return {};
}

void write_decision(json::Writer& w, const CompiledPolicy& c, const Decision& d) {
  w.field("decision", d.allow ? "allow" : "deny");
  w.key("rule");
  d.rule ? w.value(c.matcher.rule(*d.rule).name) : w.null();
  w.field("reason", reason_name(d.reason));
  w.key("inject");
  w.begin_array();
  if (d.inject)
    for (const auto& in : c.matcher.rule(*d.rule).inject) {
      w.begin_object();
      w.field("header", in.header);
      w.field("secret_ref", in.secret_ref);
      w.end_object();
    }
  w.end_array();
  w.field("audit", audit_name(d.audit));
  w.field("security_event", d.security_event);
  w.key("by");
  d.by == By::none ? w.null() : w.value(by_text(c, d));
}

}  // namespace cube::egress
