#include "proxy_mint.hpp"

#include "error.hpp"
#include "ipv4.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace cube::egress {
namespace {

[[noreturn]] void mint_fail(const std::string& name, std::string_view doing) {
  unsigned long e = ERR_get_error();
  char buf[256] = "no detail from OpenSSL";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  throw Error(Exit::failed, fmt::format("cannot mint a certificate for {}: {}", name, doing), buf);
}

void add_ext(X509& cert, X509& issuer, int nid, const std::string& value, const std::string& name) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, &issuer, &cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) mint_fail(name, OBJ_nid2sn(nid));
  int ok = X509_add_ext(&cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) mint_fail(name, OBJ_nid2sn(nid));
}

void set_times(X509& c, int64_t now_ms, int64_t valid_ms, const std::string& name) {
  time_t now = static_cast<time_t>(now_ms / 1000);
  if (!X509_time_adj_ex(X509_getm_notBefore(&c), 0, -60, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(&c), 0, static_cast<long>(valid_ms / 1000), &now))
    mint_fail(name, "validity");
}

}  // namespace

std::shared_ptr<const Leaf> mint_leaf(const ca::Authority& ca, const std::string& name, int64_t now_ms) {
  auto leaf = std::make_shared<Leaf>();
  leaf->key.reset(EVP_EC_gen("P-256"));
  leaf->cert.reset(X509_new());
  if (!leaf->key || !leaf->cert) mint_fail(name, "key");
  X509& c = *leaf->cert;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  if (!X509_set_version(&c, 2) || !serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(&c)))
    mint_fail(name, "serial");
  set_times(c, now_ms, k_leaf_valid_ms, name);
  X509_NAME* subject = X509_get_subject_name(&c);
  if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.data()),
                                  static_cast<int>(name.size()), -1, 0) ||
      !X509_set_issuer_name(&c, X509_get_subject_name(ca.cert.get())) || !X509_set_pubkey(&c, leaf->key.get()))
    mint_fail(name, "names");
  bool address = ipv4::parse_address(name).has_value();
  add_ext(c, *ca.cert, NID_subject_alt_name, (address ? "IP:" : "DNS:") + name, name);
  add_ext(c, *ca.cert, NID_basic_constraints, "critical,CA:FALSE", name);
  add_ext(c, *ca.cert, NID_key_usage, "critical,digitalSignature", name);
  add_ext(c, *ca.cert, NID_ext_key_usage, "serverAuth", name);
  add_ext(c, *ca.cert, NID_subject_key_identifier, "hash", name);
  add_ext(c, *ca.cert, NID_authority_key_identifier, "keyid:always", name);
  if (!X509_sign(&c, ca.key.get(), EVP_sha256())) mint_fail(name, "signature");
  leaf->minted_ms = now_ms;
  leaf->not_after_ms = (now_ms / 1000 + k_leaf_valid_ms / 1000) * 1000;
  return leaf;
}

std::shared_ptr<const Leaf> LeafCache::get(const std::string& name, int64_t now_ms) {
  {
    std::lock_guard lock(m_mutex);
    auto it = m_leaves.find(name);
    if (it != m_leaves.end() && it->second->not_after_ms - now_ms > k_leaf_renew_ms) return it->second;
  }
  auto leaf = mint_leaf(m_ca, name, now_ms);  // outside the lock: other names go on meanwhile
  std::lock_guard lock(m_mutex);
  make_room(now_ms);
  m_leaves[name] = leaf;
  return leaf;
}

size_t LeafCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_leaves.size();
}

void LeafCache::make_room(int64_t now_ms) {
  if (m_leaves.size() < m_max) return;
  std::erase_if(m_leaves, [&](const auto& kv) { return kv.second->not_after_ms - now_ms <= k_leaf_renew_ms; });
  while (m_leaves.size() >= m_max) {
    auto oldest = m_leaves.begin();
    for (auto it = m_leaves.begin(); it != m_leaves.end(); ++it)
      if (it->second->minted_ms < oldest->second->minted_ms) oldest = it;
    m_leaves.erase(oldest);
  }
}

}  // namespace cube::egress
