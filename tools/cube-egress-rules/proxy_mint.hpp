// cube::egress proxy_mint — the certificates the proxy shows a sandbox when a rule needs it to
// decrypt: one leaf per SNI, signed by the cluster CA (`ca init`), which templates trust.
//
// Contract:
// - mint_leaf() makes an ECDSA P-256 leaf for `name` (a DNS name, or an IPv4 address for a
//   connection without SNI): subjectAltName DNS:name (or IP:addr), CN=name, CA:FALSE,
//   digitalSignature, serverAuth, key identifiers, a random serial; valid from now−60 s for 7 days
//   (upstream's numbers), signed with SHA-256 by the CA.
// - LeafCache hands out the leaf of a name, minting it on first use and again once fewer than
//   k_leaf_renew_ms are left (a leaf serves 6 days); it holds at most `max_entries` leaves,
//   dropping the expired ones and then the oldest. Safe to call from every proxy thread; minting
//   happens outside the lock, so one slow mint never stalls other names.
#pragma once

#include "ca.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cube::egress {

inline constexpr int64_t k_leaf_valid_ms = 7LL * 86'400'000;
inline constexpr int64_t k_leaf_renew_ms = 1LL * 86'400'000;

struct Leaf {
  ca::X509Ptr cert;
  ca::KeyPtr key;
  int64_t not_after_ms = 0;
  int64_t minted_ms = 0;
};

std::shared_ptr<const Leaf> mint_leaf(const ca::Authority& ca, const std::string& name, int64_t now_ms);

class LeafCache {
 public:
  explicit LeafCache(ca::Authority ca, size_t max_entries = 4096) : m_ca(std::move(ca)), m_max(max_entries) {}
  std::shared_ptr<const Leaf> get(const std::string& name, int64_t now_ms);
  size_t size() const;

 private:
  void make_room(int64_t now_ms);
  ca::Authority m_ca;
  size_t m_max;
  mutable std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<const Leaf>> m_leaves;
};

}  // namespace cube::egress
