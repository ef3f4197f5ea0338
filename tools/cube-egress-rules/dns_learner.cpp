#include "dns_learner.hpp"

#include "ipv4.hpp"
#include "relay_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace cube::egress {

std::optional<Answer> answer_of(std::span<const uint8_t> response) {
  auto m = dns::parse(response);
  if (!m || !m->header.response() || m->header.rcode() != 0 || m->questions.size() != 1) return std::nullopt;
  const dns::Question& q = m->questions[0];
  if (q.klass != dns::k_class_in || q.name.empty()) return std::nullopt;
  Answer out{q.name, {}};
  for (dns::Address a : dns::a_records(*m, q.name)) {
    if (a.ttl == 0) continue;
    a.ttl = std::min(a.ttl, k_max_ttl_s);
    auto same = [&](const auto& b) { return b.address == a.address; };
    if (std::find_if(out.addresses.begin(), out.addresses.end(), same) != out.addresses.end()) continue;
    out.addresses.push_back(a);
    if (out.addresses.size() == k_max_learned) break;
  }
  if (out.addresses.empty()) return std::nullopt;
  return out;
}

// c.resolvers is filled only for a policy that names a domain, and sorted (compiled.cpp).
bool names_kept(const CompiledPolicy& c, uint32_t resolver, std::string_view name) {
  if (!std::binary_search(c.resolvers.begin(), c.resolvers.end(), resolver)) return false;
  return learnable(c, name) || c.l7_name_trie.matches(name);
}

bool names_may_vouch(const CompiledPolicy& c, uint32_t dst) {
  // "This network" (0.0.0.0 reaches the node's own listeners), multicast and reserved: never a
  // name's address on the internet.
  static constexpr Cidr k_never[] = {{0, 8}, {224u << 24, 3}};
  if (c.allow_set.find(dst)) return true;
  for (const Cidr& r : private_ranges())
    if (r.contains(dst)) return false;
  for (const Cidr& r : k_never)
    if (r.contains(dst)) return false;
  auto j = c.deny_set.find(dst);
  // A catch-all denyOut (0.0.0.0/0, as a policy with domains and internet access must carry)
  // denies what no name lets through; the longest match wins, so a narrower entry still counts.
  return !j || c.deny[*j].kind != DenyKind::deny_out || c.deny[*j].cidr.prefix == 0;
}

std::string learn_commands(uint32_t sandbox, const std::vector<dns::Address>& addresses) {
  std::string set = fmt::format("inet cube_egress a_{:08x}_learned", sandbox);
  std::string out;
  for (const auto& a : addresses) {
    // add (a no-op when present), delete, add: the element ends up there with this TTL either way.
    std::string addr = ipv4::format(a.address);
    out += fmt::format("add element {0} {{ {1} timeout 1s }}\ndelete element {0} {{ {1} }}\n", set, addr);
    out += fmt::format("add element {} {{ {} timeout {}s }}\n", set, addr, a.ttl);
  }
  return out;
}

size_t Learner::learn(uint32_t sandbox, const CompiledPolicy& c, const Answer& answer) {
  if (!learnable(c, answer.name)) return 0;
  // The set is accepted before the deny set: any resolver the relay forwards to (one the sandbox
  // runs, with internet allowed) could otherwise open a private range, the node, or a denyOut entry
  // by naming it under an allowed name.
  std::vector<dns::Address> kept;
  std::copy_if(answer.addresses.begin(), answer.addresses.end(), std::back_inserter(kept),
               [&](const dns::Address& a) { return names_may_vouch(c, a.address); });
  if (kept.empty()) return 0;
  m_nft.run(learn_commands(sandbox, kept),
            fmt::format("adding learned addresses to a_{:08x}_learned in table inet cube_egress", sandbox));
  return kept.size();
}

}  // namespace cube::egress
