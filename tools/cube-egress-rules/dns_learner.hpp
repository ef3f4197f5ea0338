// cube::egress dns_learner — turns a DNS answer the relay forwarded into elements of the asking
// sandbox's `a_<k>_learned` set (table inet cube_egress), each with its record's TTL as timeout.
//
// Contract:
// - Only a response with rcode 0, exactly one question of class IN, whose name matches an allowOut
//   domain of the sandbox's policy, is learned from: the A records of that name and of its CNAME
//   chain (dns_message.hpp), at most k_max_learned per answer, TTLs capped at k_max_ttl_s. A TTL of
//   0 adds nothing.
// - One transaction per answer, through one long-lived libnftables context. An element already
//   there gets the new timeout (deleted and added again in the same transaction), so the set
//   follows the latest answer. A missing set (no `apply` yet) throws Error(failed).
#pragma once

#include "compiled.hpp"
#include "dns_message.hpp"
#include "nft.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_learned = 64;
inline constexpr uint32_t k_max_ttl_s = 86400;

// The addresses to learn from `response` for this policy (the rules above, without nftables).
std::vector<dns::Address> learnable_addresses(const CompiledPolicy& c, std::span<const uint8_t> response);
// The nft transaction adding them to the set of the sandbox at `sandbox` (host order).
std::string learn_commands(uint32_t sandbox, const std::vector<dns::Address>& addresses);

class Learner {
 public:
  // The number of addresses added.
  size_t learn(uint32_t sandbox, const CompiledPolicy& c, std::span<const uint8_t> response);

 private:
  nft::Context m_nft;
};

}  // namespace cube::egress
