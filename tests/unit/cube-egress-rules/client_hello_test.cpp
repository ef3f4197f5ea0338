#include "cube-egress-rules/client_hello.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace cube::egress;
using Status = HelloPeek::Status;
using Bytes = std::vector<uint8_t>;

namespace {

// A real ClientHello, as OpenSSL's client writes it.
Bytes openssl_hello(const char* sni, const std::string& alpn_wire = {}) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);
  if (sni) SSL_set_tlsext_host_name(ssl.get(), sni);
  if (!alpn_wire.empty())
    SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                        static_cast<unsigned>(alpn_wire.size()));
  SSL_connect(ssl.get());  // wants to read the ServerHello: the ClientHello is in `out`
  char* p = nullptr;
  long n = BIO_get_mem_data(out, &p);
  return Bytes(p, p + n);
}

void put16(Bytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// A ClientHello built by hand around the given extension bytes, in one record.
Bytes hello_with(const Bytes& extensions, bool with_extensions = true) {
  Bytes body = {3, 3};
  body.insert(body.end(), 32, 0xab);  // random
  body.push_back(0);                  // session id
  put16(body, 2);
  put16(body, 0x1301);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  if (with_extensions) {
    put16(body, extensions.size());
    body.insert(body.end(), extensions.begin(), extensions.end());
  }
  Bytes hs = {1, 0};
  put16(hs, body.size());
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {22, 3, 1};
  put16(rec, hs.size());
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

Bytes ext(uint16_t type, const Bytes& data) {
  Bytes e;
  put16(e, type);
  put16(e, data.size());
  e.insert(e.end(), data.begin(), data.end());
  return e;
}

Bytes sni_ext(const std::string& name) {
  Bytes entry = {0};
  put16(entry, name.size());
  entry.insert(entry.end(), name.begin(), name.end());
  Bytes list;
  put16(list, entry.size());
  list.insert(list.end(), entry.begin(), entry.end());
  return ext(0, list);
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The same hello with its handshake message cut across records of at most `chunk` bytes.
Bytes split_records(const Bytes& rec, size_t chunk) {
  Bytes hs(rec.begin() + 5, rec.end()), out;
  for (size_t at = 0; at < hs.size(); at += chunk) {
    size_t n = std::min(chunk, hs.size() - at);
    out.insert(out.end(), {22, 3, 1});
    put16(out, n);
    out.insert(out.end(), hs.begin() + static_cast<long>(at), hs.begin() + static_cast<long>(at + n));
  }
  return out;
}

HelloPeek peek(const Bytes& b) { return peek_client_hello(b); }

}  // namespace

TEST(ClientHello, RealHelloGivesSniAndAlpn) {
  Bytes h = openssl_hello("API.Example.COM.", std::string("\x02h2\x08http/1.1", 12));
  HelloPeek p = peek(h);
  ASSERT_EQ(p.status, Status::complete) << p.error;
  EXPECT_EQ(p.hello.sni, "api.example.com");
  EXPECT_EQ(p.hello.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(p.hello.legacy_version, 0x0303);
  HelloPeek none = peek(openssl_hello(nullptr));
  ASSERT_EQ(none.status, Status::complete) << none.error;
  EXPECT_FALSE(none.hello.sni);
  EXPECT_TRUE(none.hello.alpn.empty());
}

TEST(ClientHello, EveryPrefixAsksForMoreAndSaysHowMuch) {
  Bytes h = openssl_hello("example.com");
  for (size_t n = 0; n < h.size(); ++n) {
    HelloPeek p = peek_client_hello(std::span<const uint8_t>(h.data(), n));
    ASSERT_EQ(p.status, Status::need_more) << "at " << n;
    EXPECT_GT(p.need, n);
    EXPECT_LE(p.need, h.size());
  }
}

TEST(ClientHello, AcrossRecords) {
  Bytes h = openssl_hello("split.example.com");
  for (size_t chunk : {1u, 7u, 100u}) {
    HelloPeek p = peek(split_records(h, chunk));
    ASSERT_EQ(p.status, Status::complete) << chunk << ": " << p.error;
    EXPECT_EQ(p.hello.sni, "split.example.com");
  }
}

TEST(ClientHello, NotTls) {
  std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  HelloPeek p = peek(Bytes(get.begin(), get.end()));
  EXPECT_EQ(p.status, Status::not_tls);
  EXPECT_NE(p.error.find("0x47"), std::string::npos);
  EXPECT_EQ(peek(Bytes{0x16, 2, 0, 0, 1, 0}).status, Status::not_tls);  // SSLv2-era version
  EXPECT_EQ(peek(Bytes{0x17}).status, Status::not_tls);                 // one byte is enough to know
}

TEST(ClientHello, PastSixteenKibIsTooLarge) {
  // A handshake header announcing more than 16 KiB.
  EXPECT_EQ(peek(Bytes{22, 3, 1, 0, 4, 1, 0, 0x40, 0}).status, Status::too_large);
  // Records that together pass 16 KiB before the hello ends.
  Bytes big = hello_with(ext(0xffee, Bytes(16300, 0)));  // the message fits, its record headers do not
  HelloPeek p = peek(split_records(big, 1000));
  EXPECT_EQ(p.status, Status::too_large);
  // A hello just under the limit is fine.
  Bytes fits = hello_with(cat(sni_ext("a.example"), ext(0xffee, Bytes(16000, 0))));
  ASSERT_LE(fits.size(), k_max_client_hello);
  EXPECT_EQ(peek(fits).status, Status::complete);
}

TEST(ClientHello, MalformedIsRefusedWithAReason) {
  EXPECT_EQ(peek(hello_with({}, false)).status, Status::complete);  // no extensions: no SNI
  struct Case {
    Bytes extensions;
    const char* error;
  };
  Case cases[] = {
      {cat(sni_ext("a.example"), sni_ext("b.example")), "sent twice"},
      {sni_ext("bad name.example"), "byte 0x20"},
      {sni_ext(std::string("nul\0.example", 12)), "byte 0x00"},
      {sni_ext(""), "0 or over 255"},
      {sni_ext(std::string(256, 'a')), "0 or over 255"},
      {sni_ext("."), "empty host_name"},
      {ext(0, Bytes{0, 5, 0, 0, 9, 'a', 'b'}), "bad length"},
      {ext(16, Bytes{0, 1, 0}), "empty or truncated"},
      {ext(16, Bytes{0, 0}), "alpn: bad length"},
      {Bytes{0, 0, 0, 9, 1}, "overruns"},
  };
  for (const auto& c : cases) {
    HelloPeek p = peek(hello_with(c.extensions));
    EXPECT_EQ(p.status, Status::malformed) << c.error;
    EXPECT_NE(p.error.find(c.error), std::string::npos) << p.error << " vs " << c.error;
  }
  // Two host_names in one list.
  Bytes two = {0, 14, 0, 0, 4, 'a', '.', 'b', 'c', 0, 0, 4, 'd', '.', 'e', 'f'};
  two[1] = 14;
  EXPECT_NE(peek(hello_with(ext(0, two))).error.find("two host_names"), std::string::npos);
  // Not a ClientHello, a record of length 0.
  EXPECT_EQ(peek(Bytes{22, 3, 1, 0, 4, 2, 0, 0, 0}).status, Status::malformed);
  EXPECT_EQ(peek(Bytes{22, 3, 1, 0, 0}).status, Status::malformed);
}

TEST(ClientHello, RandomDamageNeverReadsOutOfBounds) {
  // Under `make check SAN=1` ASan watches every read; here every answer must be one of the five.
  Bytes h = openssl_hello("fuzz.example.com", std::string("\x08http/1.1", 9));
  std::mt19937 rng(42);
  for (int round = 0; round < 20000; ++round) {
    Bytes d = h;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) d[rng() % d.size()] = static_cast<uint8_t>(rng());
    d.resize(rng() % (d.size() + 1));
    HelloPeek p = peek(d);
    if (p.status == Status::need_more) {
      EXPECT_LE(p.need, k_max_client_hello);
    }
    if (p.status == Status::complete && p.hello.sni) {
      EXPECT_FALSE(p.hello.sni->empty());
    }
  }
}
