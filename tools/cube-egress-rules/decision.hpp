// cube::egress decision — what happens to one request under a compiled policy.
//
// Contract (doc/cube-egress-rules.md "Evaluation"):
// - A request is an L7 request when its SNI or Host matches one of the names the policy's rules
//   target, or its Host or destination is one of their addresses. Its rules decide, first match
//   wins: an allowing rule → allow (rule_allow), a denying one → deny (rule_deny), none → deny
//   (no_rule_match, a security event).
// - Any other request is decided by the L3/L4 policy (reason not_l7_target): an SNI or Host
//   matching an allowOut domain is allowed by name; else the destination: allowed when in the
//   allow set, denied when in the deny set, else allowed. Without a destination it is denied.
// - Injection gates on an allowing rule with injects: G1 the scheme is https, else the injects are
//   dropped (g1_not_https); G4 SNI and Host are both present (g4_missing_sni_or_host) and equal
//   (g4_host_sni_mismatch), else dropped as a security event. The request is still allowed.
// - The audit level is the deciding rule's, else metadata.
#pragma once

#include "compiled.hpp"
#include "json_writer.hpp"
#include "request.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cube::egress {

enum class Reason : uint8_t {
  rule_allow,
  rule_deny,
  no_rule_match,
  not_l7_target,
  g1_not_https,
  g4_missing_sni_or_host,
  g4_host_sni_mismatch,
};
std::string_view reason_name(Reason r);

// What decided a not_l7_target request, and the entry of the list it names.
enum class By : uint8_t { none, allow_domain, allow_address, deny_address, internet_allowed, no_destination };

struct Decision {
  bool allow = false;
  std::optional<uint32_t> rule;
  Reason reason = Reason::no_rule_match;
  Audit audit = Audit::metadata;
  bool inject = false;  // the rule's injects are applied
  bool security_event = false;
  By by = By::none;
  uint32_t entry = 0;
};

bool is_l7_request(const CompiledPolicy& c, const Request& r);
Decision decide(const CompiledPolicy& c, const Request& r);

// {"decision", "rule", "reason", "inject": [{"header", "secret_ref"}], "audit", "security_event",
// "by"}: secret_refs only, never a secret.
void write_decision(json::Writer& w, const CompiledPolicy& c, const Decision& d);
// The "by" text: "allow_out_domain:*.example.com", "allow_out:203.0.113.0/24",
// "dns_server:198.51.100.53", "l7_target:…", "deny_out:…", "private_range:10.0.0.0/8",
// "internet_disabled", "internet_allowed", "no_dst"; empty for rule decisions.
std::string by_text(const CompiledPolicy& c, const Decision& d);

}  // namespace cube::egress
