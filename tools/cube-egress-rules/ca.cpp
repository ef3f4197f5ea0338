#include "ca.hpp"

#include "error.hpp"
#include "sha256.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <vector>

namespace cube::egress::ca {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// OpenSSL's queued errors as one line, for the `why` of an Error.
std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? buf : std::string("; ") + buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

[[noreturn]] void ssl_fail(std::string what) { throw Error(Exit::failed, std::move(what), ssl_errors()); }

BioPtr mem_bio(std::string_view data) {
  BioPtr b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!b) ssl_fail("cannot allocate a memory BIO");
  return b;
}

std::string bio_text(BIO& b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(&b, &data);
  return std::string(data, static_cast<size_t>(n));
}

void add_ext(X509& cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, &cert, &cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) ssl_fail(fmt::format("cannot build the CA's extension {}", OBJ_nid2sn(nid)));
  int ok = X509_add_ext(&cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) ssl_fail("cannot add an extension to the CA");
}

// A random positive serial of 159 bits (RFC 5280 allows 20 octets; the top bit stays clear).
void set_serial(X509& cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_new(), BN_free);
  if (!bn || !BN_rand(bn.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(&cert)))
    ssl_fail("cannot draw a serial number");
}

int64_t asn1_time_ms(const ASN1_TIME* t) {
  struct tm tm {};
  if (!ASN1_TIME_to_tm(t, &tm)) ssl_fail("cannot read a certificate time");
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// The PEM blocks of a text: (label, whole block including its BEGIN and END lines).
std::vector<std::pair<std::string, std::string_view>> blocks(std::string_view pem, std::string_view what) {
  std::vector<std::pair<std::string, std::string_view>> out;
  constexpr std::string_view begin = "-----BEGIN ", dashes = "-----";
  for (size_t at = pem.find(begin); at != std::string_view::npos; at = pem.find(begin, at)) {
    size_t label_end = pem.find(dashes, at + begin.size());
    if (label_end == std::string_view::npos) break;
    std::string label(pem.substr(at + begin.size(), label_end - at - begin.size()));
    std::string end = fmt::format("-----END {}-----", label);
    size_t stop = pem.find(end, label_end);
    if (stop == std::string_view::npos)
      throw Error(Exit::usage, fmt::format("{}: PEM block {} has no END line", what, label));
    out.emplace_back(label, pem.substr(at, stop + end.size() - at));
    at = stop + end.size();
  }
  return out;
}

}  // namespace

SecretText::~SecretText() { OPENSSL_cleanse(m_text.data(), m_text.size()); }

Authority generate(int days) {
  Authority a;
  a.key.reset(EVP_EC_gen("P-256"));
  if (!a.key) ssl_fail("cannot generate an EC P-256 key");
  a.cert.reset(X509_new());
  X509& c = *a.cert;
  if (!a.cert || !X509_set_version(&c, 2)) ssl_fail("cannot allocate a certificate");
  set_serial(c);
  if (!X509_gmtime_adj(X509_getm_notBefore(&c), -60) ||
      !X509_gmtime_adj(X509_getm_notAfter(&c), static_cast<long>(days) * 86400))
    ssl_fail("cannot set the CA's validity");
  X509_NAME* name = X509_get_subject_name(&c);
  auto cn = reinterpret_cast<const unsigned char*>(k_subject_cn.data());
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("cube"), -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, static_cast<int>(k_subject_cn.size()), -1, 0) ||
      !X509_set_issuer_name(&c, name) || !X509_set_pubkey(&c, a.key.get()))
    ssl_fail("cannot name the CA");
  add_ext(c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(c, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(c, NID_subject_key_identifier, "hash");
  add_ext(c, NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(&c, a.key.get(), EVP_sha256())) ssl_fail("cannot sign the CA");
  return a;
}

std::string cert_pem(X509& cert) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || !PEM_write_bio_X509(b.get(), &cert)) ssl_fail("cannot write a certificate as PEM");
  return bio_text(*b);
}

SecretText key_pem(EVP_PKEY& key) {
  BioPtr b(BIO_new(BIO_s_secmem()));
  if (!b || !PEM_write_bio_PrivateKey(b.get(), &key, nullptr, nullptr, 0, nullptr, nullptr))
    ssl_fail("cannot write a private key as PEM");
  return SecretText(bio_text(*b));
}

namespace {

Authority parse_blocks(std::string_view pem, std::string_view what) {
  Authority a;
  auto found = blocks(pem, what);
  if (found.empty()) throw Error(Exit::usage, fmt::format("{}: no PEM block", what));
  for (const auto& [label, text] : found) {
    BioPtr b = mem_bio(text);
    bool is_key = label == "PRIVATE KEY" || label == "EC PRIVATE KEY";
    if (label != "CERTIFICATE" && !is_key)
      throw Error(Exit::usage, fmt::format("{}: unexpected PEM block {}", what, label),
                  "expected one CERTIFICATE and at most one PRIVATE KEY");
    if ((is_key && a.key) || (!is_key && a.cert))
      throw Error(Exit::usage, fmt::format("{}: more than one {}", what, is_key ? "private key" : "certificate"));
    if (is_key)
      a.key.reset(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, const_cast<char*>("")));
    else
      a.cert.reset(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if ((is_key && !a.key) || (!is_key && !a.cert))
      throw Error(Exit::usage, fmt::format("{}: cannot read its {}", what, label), ssl_errors());
  }
  return a;
}

}  // namespace

Authority parse(std::string_view pem, std::string_view what) {
  Authority a = parse_blocks(pem, what);
  if (!a.cert) throw Error(Exit::usage, fmt::format("{}: no CERTIFICATE", what));
  return a;
}

KeyPtr parse_key(std::string_view pem, std::string_view what) {
  Authority a = parse_blocks(pem, what);
  if (a.cert) throw Error(Exit::usage, fmt::format("{}: holds a certificate besides the key", what));
  if (!a.key) throw Error(Exit::usage, fmt::format("{}: no PRIVATE KEY", what));
  return std::move(a.key);
}

Info inspect(X509& cert) {
  Info i;
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), X509_get_subject_name(&cert), 0, XN_FLAG_RFC2253) < 0)
    ssl_fail("cannot print the CA's subject");
  i.subject = bio_text(*b);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(&cert, EVP_sha256(), md, &len)) ssl_fail("cannot hash the CA");
  for (unsigned k = 0; k < len; ++k) i.fingerprint += fmt::format("{:02x}", md[k]);
  i.pem_sha256 = sha256_hex(cert_pem(cert));
  i.not_before_ms = asn1_time_ms(X509_get0_notBefore(&cert));
  i.not_after_ms = asn1_time_ms(X509_get0_notAfter(&cert));
  return i;
}

void check(const Authority& a, std::string_view what) {
  if (X509_check_ca(a.cert.get()) != 1)
    throw Error(Exit::usage, fmt::format("{}: the certificate is not a CA", what),
                "basicConstraints CA:TRUE is missing");
  if (X509_cmp_current_time(X509_get0_notAfter(a.cert.get())) <= 0)
    throw Error(Exit::usage, fmt::format("{}: the CA expired on {}", what,
                                         time::rfc3339(asn1_time_ms(X509_get0_notAfter(a.cert.get())))));
  if (a.key && X509_check_private_key(a.cert.get(), a.key.get()) != 1) {
    ERR_clear_error();
    throw Error(Exit::usage, fmt::format("{}: the private key does not belong to the certificate", what));
  }
}

bool same_cert(X509& a, X509& b) { return X509_cmp(&a, &b) == 0; }

}  // namespace cube::egress::ca
