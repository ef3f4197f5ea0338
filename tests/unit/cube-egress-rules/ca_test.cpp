#include "cube-egress-rules/ca.hpp"
#include "cube-egress-rules/ca_store.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

using namespace cube;
using namespace cube::egress;

namespace {

cluster_ca::Paths paths_in(const test::TempDir& dir) {
  return {dir / "ca", dir / "ca/cube-root-ca.crt", dir / "ca/cube-root-ca.key"};
}

void expect_usage(const std::function<void()>& f, std::string_view part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing " << part;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(e.message().find(part), std::string::npos) << e.message();
  }
}

}  // namespace

TEST(EgressCa, GeneratedCaIsAP256CaThatSignsItself) {
  ca::Authority a = ca::generate(30);
  EXPECT_EQ(X509_check_ca(a.cert.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(a.key.get()), 256);
  EXPECT_TRUE(EVP_PKEY_is_a(a.key.get(), "EC"));
  EXPECT_EQ(X509_verify(a.cert.get(), a.key.get()), 1);
  ca::Info i = ca::inspect(*a.cert);
  EXPECT_EQ(i.subject, "CN=cube egress root CA,O=cube");
  EXPECT_EQ(i.fingerprint.size(), 64u);
  int64_t span = i.not_after_ms - i.not_before_ms;
  EXPECT_EQ(span, (30LL * 86400 + 60) * 1000);
  EXPECT_NO_THROW(ca::check(a, "test"));
  // Two CAs never share a serial or a key.
  ca::Authority b = ca::generate(30);
  EXPECT_FALSE(ca::same_cert(*a.cert, *b.cert));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert.get()), X509_get0_serialNumber(b.cert.get())), 0);
}

TEST(EgressCa, PemRoundTripInEitherOrder) {
  ca::Authority a = ca::generate(1);
  std::string cert = ca::cert_pem(*a.cert);
  ca::SecretText key = ca::key_pem(*a.key);
  for (const std::string& text : {cert + key.text(), key.text() + cert}) {
    ca::Authority b = ca::parse(text, "bundle");
    ASSERT_TRUE(b.key);
    EXPECT_TRUE(ca::same_cert(*a.cert, *b.cert));
    EXPECT_EQ(EVP_PKEY_eq(a.key.get(), b.key.get()), 1);
  }
  EXPECT_FALSE(ca::parse(cert, "cert").key);
  EXPECT_EQ(EVP_PKEY_eq(ca::parse_key(key.text(), "key").get(), a.key.get()), 1);
}

TEST(EgressCa, ParseRefusesWhatIsNotOneCertAndOneKey) {
  ca::Authority a = ca::generate(1);
  std::string cert = ca::cert_pem(*a.cert);
  ca::SecretText key = ca::key_pem(*a.key);
  expect_usage([] { ca::parse("", "stdin"); }, "stdin: no PEM block");
  expect_usage([&] { ca::parse(key.text(), "stdin"); }, "no CERTIFICATE");
  expect_usage([&] { ca::parse(cert + cert, "stdin"); }, "more than one certificate");
  expect_usage([&] { ca::parse(cert + key.text() + key.text(), "stdin"); }, "more than one private key");
  expect_usage([&] { ca::parse("-----BEGIN CERTIFICATE-----\nAAAA\n", "f"); }, "has no END line");
  expect_usage([&] { ca::parse("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n", "f"); },
               "cannot read its CERTIFICATE");
  expect_usage([&] { ca::parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "f"); },
               "unexpected PEM block PUBLIC KEY");
  expect_usage([&] { ca::parse_key(cert + key.text(), "f"); }, "holds a certificate");
}

TEST(EgressCa, CheckRefusesAnotherKeyAnExpiredCaAndALeaf) {
  ca::Authority a = ca::generate(1);
  ca::Authority b = ca::generate(1);
  ca::Authority mixed{ca::X509Ptr(X509_dup(a.cert.get())), ca::KeyPtr(EVP_PKEY_dup(b.key.get()))};
  expect_usage([&] { ca::check(mixed, "in"); }, "does not belong");
  // Expired: moved into the past and signed again.
  X509_gmtime_adj(X509_getm_notBefore(a.cert.get()), -3 * 86400);
  X509_gmtime_adj(X509_getm_notAfter(a.cert.get()), -86400);
  X509_sign(a.cert.get(), a.key.get(), EVP_sha256());
  expect_usage([&] { ca::check(a, "in"); }, "the CA expired on");
  // A cert without CA:TRUE.
  ca::X509Ptr leaf(X509_new());
  X509_set_version(leaf.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(leaf.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(leaf.get()), 86400);
  X509_set_pubkey(leaf.get(), b.key.get());
  X509_sign(leaf.get(), b.key.get(), EVP_sha256());
  ca::Authority l{std::move(leaf), nullptr};
  expect_usage([&] { ca::check(l, "in"); }, "not a CA");
}

TEST(EgressCaStore, InstallWritesModesAndRefusesAnotherCa) {
  test::TempDir dir;
  test::Umask um(0);
  cluster_ca::Paths p = paths_in(dir);
  EXPECT_FALSE(ca::installed(p));
  ca::Authority a = ca::generate(1);
  EXPECT_EQ(ca::install(p, a, ca::Replace::no), ca::Outcome::created);
  EXPECT_EQ(test::mode_of(p.key), 0600);
  EXPECT_EQ(test::mode_of(p.cert), 0644);
  EXPECT_EQ(test::mode_of(p.dir), 0755);
  EXPECT_EQ(ca::install(p, a, ca::Replace::no), ca::Outcome::unchanged);
  ca::Authority b = ca::generate(1);
  try {
    ca::install(p, b, ca::Replace::no);
    ADD_FAILURE() << "a different CA was installed without --replace";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::conflict);
  }
  ca::Authority loaded = ca::load(p, ca::WithKey::yes);
  EXPECT_TRUE(ca::same_cert(*loaded.cert, *a.cert));
  EXPECT_EQ(EVP_PKEY_eq(loaded.key.get(), a.key.get()), 1);
  EXPECT_EQ(ca::install(p, b, ca::Replace::yes), ca::Outcome::replaced);
  EXPECT_TRUE(ca::same_cert(*ca::load(p, ca::WithKey::no).cert, *b.cert));
  EXPECT_FALSE(ca::load(p, ca::WithKey::no).key);
}

TEST(EgressCaStore, LoadRefusesAKeyOthersCanReadAndSaysWhatIsMissing) {
  test::TempDir dir;
  cluster_ca::Paths p = paths_in(dir);
  try {
    ca::load(p, ca::WithKey::no);
    ADD_FAILURE() << "no error without a CA";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::not_found);
  }
  ca::install(p, ca::generate(1), ca::Replace::no);
  ::chmod(p.key.c_str(), 0644);
  expect_usage([&] { ca::load(p, ca::WithKey::yes); }, "is open to other users (mode 0644");
  EXPECT_NO_THROW(ca::load(p, ca::WithKey::no));  // the cert alone is public
  ::unlink(p.key.c_str());
  try {
    ca::load(p, ca::WithKey::yes);
    ADD_FAILURE() << "no error without a key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::not_found);
  }
  // A symlink in place of the key is not followed.
  ::symlink(p.cert.c_str(), p.key.c_str());
  EXPECT_THROW(ca::load(p, ca::WithKey::yes), Error);
}
