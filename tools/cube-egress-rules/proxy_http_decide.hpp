// cube::egress proxy_http_decide — one HTTP request decided, as `check` decides it, against the
// snapshot current when it arrived.
//
// Contract:
// - No snapshot, an unknown source, a sandbox without a policy, a target whose path cannot be
//   normalised → denied, with security_reason no_policy_loaded, unknown_source, no_policy or
//   bad_path and no rule.
// - Else decide() (decision.hpp) decides; a decision that is a security event (no_rule_match, G4)
//   names its reason in security_reason.
// - `name` is set when an allow rests on a name the sandbox chose (the deciding rule's sni or
//   host, or an allowOut domain): the original destination must be an address of it.
#pragma once

#include "decision.hpp"
#include "proxy_snapshot.hpp"

#include <memory>
#include <optional>
#include <string>

namespace cube::egress {

struct Verdict {
  Decision decision;
  std::string sandbox;
  std::shared_ptr<const CompiledPolicy> policy;
  std::shared_ptr<const SecretStore> secrets;
  std::string security_reason;
  std::optional<std::string> name;
  bool decided = false;  // the policy decided (decision.reason means something)
  const CompiledRule* rule() const { return decision.rule ? &policy->matcher.rule(*decision.rule) : nullptr; }
};

Verdict decide_http(const Snapshot* s, uint32_t src, const Request& r);

}  // namespace cube::egress
