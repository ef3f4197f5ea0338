// cube::egress::ca — the cluster CA in memory: create it, read and write its PEM, describe it, and
// check that a key belongs to a cert. The files are ca_store's.
//
// Contract: a CA is an EC P-256 key and a self-signed X.509 v3 cert (CA:TRUE, pathlen 0, keyCertSign
// and cRLSign, SHA-256 signature, a random 159-bit serial). PEM in, PEM out; every parse error names
// `what` (a file, or stdin) and the block. Private key text is held in SecretText, which wipes its
// bytes when it goes.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cube::egress::ca {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

inline constexpr int k_default_days = 3650;
inline constexpr int k_max_days = 36500;
inline constexpr int k_warn_days = 30;  // `ca show` and `serve` warn when fewer days are left
inline constexpr std::string_view k_subject_cn = "cube egress root CA";

// Text that holds a private key: wiped (OPENSSL_cleanse) when destroyed.
class SecretText {
 public:
  SecretText() = default;
  explicit SecretText(std::string text) : m_text(std::move(text)) {}
  SecretText(SecretText&& o) noexcept : m_text(std::move(o.m_text)) { o.m_text.clear(); }
  SecretText& operator=(SecretText&&) = delete;
  SecretText(const SecretText&) = delete;
  ~SecretText();
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
};

struct Authority {
  X509Ptr cert;
  KeyPtr key;  // null when only the cert was read
};

struct Info {
  std::string subject;      // RFC 2253, one line
  std::string fingerprint;  // SHA-256 of the DER cert, lowercase hex (`openssl x509 -fingerprint -sha256`)
  std::string pem_sha256;   // SHA-256 of the cert's PEM: what cube-rootfs folds into a template's fingerprint
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
};

// A new CA valid from now−60 s for `days` days.
Authority generate(int days);

std::string cert_pem(X509& cert);
SecretText key_pem(EVP_PKEY& key);

// PEM text holding exactly one CERTIFICATE and, optionally, one PRIVATE KEY (PKCS#8 or the
// traditional EC form), in any order. Throws Error(usage) naming `what` on anything else.
Authority parse(std::string_view pem, std::string_view what);
// PEM text holding one PRIVATE KEY and nothing else.
KeyPtr parse_key(std::string_view pem, std::string_view what);

Info inspect(X509& cert);

// Throws Error(usage) naming `what` unless the cert is a CA (basicConstraints CA:TRUE) that has
// not expired, and, when the key is there, the key is the cert's.
void check(const Authority& a, std::string_view what);

// True when both certs are the same DER.
bool same_cert(X509& a, X509& b);

}  // namespace cube::egress::ca
