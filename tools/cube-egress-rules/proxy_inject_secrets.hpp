// cube::egress proxy_inject_secrets — the secrets a running proxy injects, held where a core dump
// does not reach them.
//
// Contract:
// - SecretStore copies the secrets of a policy's injects into one anonymous mapping marked
//   MADV_DONTDUMP (left out of core dumps), and clears the policy's copies (OPENSSL_cleanse), so
//   the heap keeps none. The mapping is cleared before it is unmapped.
// - find() gives a secret by its secret_ref; the view lives as long as the store. Nothing here
//   prints a secret.
#pragma once

#include "policy.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace cube::egress {

class SecretStore {
 public:
  explicit SecretStore(Policy& p);  // takes the secrets out of `p`
  ~SecretStore();
  SecretStore(const SecretStore&) = delete;
  SecretStore& operator=(const SecretStore&) = delete;
  std::optional<std::string_view> find(std::string_view secret_ref) const;

 private:
  char* m_base = nullptr;
  size_t m_size = 0;
  std::unordered_map<std::string, std::pair<size_t, size_t>> m_index;  // secret_ref → offset, length
};

// Clears the secrets a policy read from the state file still holds.
void forget_secrets(Policy& p);
// Clears bytes that held a secret (or a header rendered from one) before they are freed.
void cleanse(std::string& s);

}  // namespace cube::egress
