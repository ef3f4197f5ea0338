#include "proxy_inject_secrets.hpp"

#include "error.hpp"

#include <openssl/crypto.h>

#include <sys/mman.h>

#include <cstring>

namespace cube::egress {

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void forget_secrets(Policy& p) {
  for (auto& r : p.rules)
    for (auto& in : r.inject) cleanse(in.secret);
}

SecretStore::SecretStore(Policy& p) {
  size_t total = 0;
  for (const auto& r : p.rules)
    for (const auto& in : r.inject) total += in.secret.size();
  if (total == 0) return;
  m_size = total;
  void* base = ::mmap(nullptr, m_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw sys_error(errno, "cannot map memory for the injected secrets");
  m_base = static_cast<char*>(base);
  ::madvise(m_base, m_size, MADV_DONTDUMP);  // best effort: a kernel without it still works
  size_t at = 0;
  for (auto& r : p.rules)
    for (auto& in : r.inject) {
      if (in.secret.empty()) continue;
      std::memcpy(m_base + at, in.secret.data(), in.secret.size());
      m_index.try_emplace(in.secret_ref, at, in.secret.size());
      at += in.secret.size();
      cleanse(in.secret);
    }
}

SecretStore::~SecretStore() {
  if (!m_base) return;
  OPENSSL_cleanse(m_base, m_size);
  ::munmap(m_base, m_size);
}

std::optional<std::string_view> SecretStore::find(std::string_view secret_ref) const {
  auto it = m_index.find(std::string(secret_ref));
  if (it == m_index.end()) return std::nullopt;
  return std::string_view(m_base + it->second.first, it->second.second);
}

}  // namespace cube::egress
