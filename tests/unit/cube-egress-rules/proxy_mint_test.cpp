#include "cube-egress-rules/proxy_mint.hpp"
#include "ipv4.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

using namespace cube;
using namespace cube::egress;

namespace {

// Verifies `leaf` against `ca` alone, for a TLS server named `name`, at `at_s` (Unix seconds).
int verify(const ca::Authority& authority, const Leaf& leaf, const std::string& name, time_t at_s) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  X509_STORE_add_cert(store.get(), authority.cert.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.cert.get(), nullptr);
  X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_time(p, at_s);
  if (ipv4::parse_address(name))
    X509_VERIFY_PARAM_set1_ip_asc(p, name.c_str());
  else
    X509_VERIFY_PARAM_set1_host(p, name.c_str(), name.size());
  X509_verify_cert(ctx.get());
  return X509_STORE_CTX_get_error(ctx.get());
}

}  // namespace

TEST(ProxyMint, LeafVerifiesAgainstTheCaForItsNameOnly) {
  ca::Authority authority = ca::generate(30);
  int64_t now = time::now_ms();
  auto leaf = mint_leaf(authority, "api.example.com", now);
  time_t s = static_cast<time_t>(now / 1000);
  EXPECT_EQ(verify(authority, *leaf, "api.example.com", s), X509_V_OK);
  EXPECT_EQ(verify(authority, *leaf, "api.example.com", s - 59), X509_V_OK);  // clocks a minute behind
  EXPECT_EQ(verify(authority, *leaf, "other.example.com", s), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(authority, *leaf, "api.example.com", s + 7 * 86400 + 1), X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(verify(ca::generate(30), *leaf, "api.example.com", s), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(X509_check_ca(leaf->cert.get()), 0);
  EXPECT_EQ(EVP_PKEY_get_bits(leaf->key.get()), 256);
  EXPECT_EQ(X509_check_private_key(leaf->cert.get(), leaf->key.get()), 1);
  auto ip = mint_leaf(authority, "192.0.2.7", now);
  EXPECT_EQ(verify(authority, *ip, "192.0.2.7", s), X509_V_OK);
}

TEST(ProxyMint, CacheReusesALeafForSixDaysAndKeepsItsBound) {
  LeafCache cache(ca::generate(30), 3);
  int64_t now = time::now_ms();
  auto a = cache.get("a.example", now);
  EXPECT_EQ(cache.get("a.example", now + 1000).get(), a.get());
  EXPECT_EQ(cache.get("a.example", now + 5 * 86'400'000LL).get(), a.get());
  auto renewed = cache.get("a.example", now + 6 * 86'400'000LL + 1000);
  EXPECT_NE(renewed.get(), a.get());
  cache.get("b.example", now + 6 * 86'400'000LL + 2000);
  cache.get("c.example", now + 6 * 86'400'000LL + 3000);
  EXPECT_EQ(cache.size(), 3u);
  cache.get("d.example", now + 6 * 86'400'000LL + 4000);  // the oldest (a) goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_NE(cache.get("a.example", now + 6 * 86'400'000LL + 5000).get(), renewed.get());
}
