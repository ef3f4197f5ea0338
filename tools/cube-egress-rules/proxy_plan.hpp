// cube::egress proxy_plan — what the proxy does with a TLS connection once it has read the SNI,
// before any byte is decrypted.
//
// Contract (one matcher, two callers: the same compiled policy and rules as `check`):
// - A connection that is not an L7 request (its SNI names no L7 target, its destination is no L7
//   address) is decided by the L3/L4 policy (reason not_l7_target): allowed → relay untouched,
//   denied → refuse.
// - An L7 request walks the rules in order, as first-match-wins does, with what a ClientHello
//   tells: the SNI and the scheme (https). The first rule that can still match decides:
//   - when it names no host, method or path and injects nothing, its SNI alone decides: allow →
//     relay untouched, deny → refuse (a TLS access_denied alert);
//   - otherwise only the HTTP requests inside can decide: decrypt.
//   No rule that can match → refuse, no_rule_match (a security event).
// - `by_name` is set when a relay is allowed because of a name (a rule's sni, an allowOut
//   domain): the destination must then be an address of that name (dst_not_of_name).
#pragma once

#include "compiled.hpp"
#include "decision.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cube::egress {

enum class TlsAction { relay, refuse, decrypt };

struct TlsPlan {
  TlsAction action = TlsAction::refuse;
  Decision decision;
  bool by_name = false;
};

TlsPlan plan_tls(const CompiledPolicy& c, const std::optional<std::string>& sni, uint32_t dst);

}  // namespace cube::egress
