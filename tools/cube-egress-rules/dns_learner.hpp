// cube::egress dns_learner — turns a DNS answer the relay forwarded into elements of the asking
// sandbox's `a_<k>_learned` set (table inet cube_egress), each with its record's TTL as timeout,
// and says which answers the proxy's name check keeps (learned_names.hpp).
//
// Contract:
// - An answer is learned from only when it has rcode 0 and exactly one question, of class IN: the
//   A records of that name and of its CNAME chain (dns_message.hpp), at most k_max_learned per
//   answer, TTLs capped at k_max_ttl_s. A TTL of 0 adds nothing.
// - The set learns a name that matches an allowOut domain of the sandbox's policy; the proxy's
//   check keeps, besides those, a name that matches an L7 rule's sni or host (names_kept), the
//   names on which the proxy allows by name, and only from the policy's own resolvers (dnsServers,
//   else [egress] dns_servers). Not from any resolver the relay forwards to: with internet allowed
//   that is any public address, and a resolver the sandbox runs could then vouch for a private or
//   denied address under an allowed name, which the proxy would connect to.
// - One transaction per answer, through one long-lived libnftables context. An element already
//   there gets the new timeout (deleted and added again in the same transaction), so the set
//   follows the latest answer. A missing set (no `apply` yet) throws Error(failed).
#pragma once

#include "compiled.hpp"
#include "dns_message.hpp"
#include "nft.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_learned = 64;
inline constexpr uint32_t k_max_ttl_s = 86400;

struct Answer {
  std::string name;  // the question, normalised
  std::vector<dns::Address> addresses;
};
// What `response` gives to learn, whatever the policy; nullopt when nothing.
std::optional<Answer> answer_of(std::span<const uint8_t> response);
// Whether the proxy's name check keeps `answer`'s name from `resolver` (the set's rule is
// relay_policy.hpp's learnable()).
bool names_kept(const CompiledPolicy& c, uint32_t resolver, std::string_view name);
// Whether an answer may vouch for `dst` (host order), for the set (Learner::learn) and for the
// proxy's name check: not for a private range, 0.0.0.0/8, multicast or reserved, nor for a
// denyOut entry narrower than the catch-all 0.0.0.0/0, unless the policy allows the address
// itself. A resolver may be a tenant's choice (dnsServers, or any one with internet allowed), and
// an answer is only as good as its resolver.
bool names_may_vouch(const CompiledPolicy& c, uint32_t dst);
// The nft transaction adding them to the set of the sandbox at `sandbox` (host order).
std::string learn_commands(uint32_t sandbox, const std::vector<dns::Address>& addresses);

class Learner {
 public:
  // Adds what `answer` may vouch for (names_may_vouch) to the sandbox's set; the number added.
  size_t learn(uint32_t sandbox, const CompiledPolicy& c, const Answer& answer);

 private:
  nft::Context m_nft;
};

}  // namespace cube::egress
