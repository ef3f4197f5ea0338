#include "proxy_mitm.hpp"

#include "ca_store.hpp"
#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"
#include "proxy_http.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <cstring>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

// ALPN: http/1.1 when the client offers it, else none (never h2: requests are read as HTTP/1.1).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void*) {
  for (unsigned i = 0; i < inlen;) {
    unsigned n = in[i];
    if (i + 1 + n > inlen) break;
    if (n == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

void handshake_failed(ProxyContext& ctx, ConnEvent& e, std::string reason) {
  e.event = "tls_handshake";
  e.allow = false;
  e.security_reason = std::move(reason);
  ctx.audit.write(e);
}

}  // namespace

Interception::Interception(ca::Authority ca, const std::string& upstream_ca_file)
    : leaves(std::move(ca)), upstream(upstream_ca_file) {
  SSL_CTX* ctx = server.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
}

std::unique_ptr<Interception> load_interception(const ServeOptions& o) {
  ca::Authority authority;
  try {
    authority = ca::load(cluster_ca::Paths{"", o.ca_cert, o.ca_key}, ca::WithKey::yes);
  } catch (const Error& err) {
    log::warn("decrypting is off, connections that need it are refused: {}", err.message());
    return nullptr;
  }
  return std::make_unique<Interception>(std::move(authority), o.upstream_ca_file);
}

asio::awaitable<void> decrypt(tcp::socket client, ProxyContext& ctx, ConnEvent e) {
  if (!ctx.interception) co_return handshake_failed(ctx, e, "cert_signer_failed:no_ca");
  std::string name = e.sni ? *e.sni : ipv4::format(e.dst);
  std::shared_ptr<const Leaf> leaf;
  try {
    leaf = ctx.interception->leaves.get(name, time::now_ms());
  } catch (const Error& err) {
    log::error("connection {}: cannot mint a leaf for {}: {}", e.connection, name, err.message());
    co_return handshake_failed(ctx, e, "cert_signer_failed:" + err.message());
  }
  auto strand = co_await asio::this_coro::executor;
  TlsStream tls(tcp::socket(strand, tcp::v4(), client.release()), ctx.interception->server);
  SSL* ssl = tls.native_handle();
  if (SSL_use_certificate(ssl, leaf->cert.get()) != 1 || SSL_use_PrivateKey(ssl, leaf->key.get()) != 1)
    co_return handshake_failed(ctx, e, "cert_signer_failed:the leaf does not load");
  boost::system::error_code ec;
  beast::get_lowest_layer(tls).expires_after(std::chrono::milliseconds(ctx.options.hello_timeout_ms));
  co_await tls.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    log::debug("connection {}: the client's handshake failed: {}", e.connection, ec.message());
    co_return handshake_failed(ctx, e, "client_handshake_failed");
  }
  HttpConn c(ctx);
  c.connection = e.connection;
  c.src = e.src;
  c.dst = e.dst;
  c.dst_port = e.dst_port;
  c.scheme = "https";
  c.sni = e.sni;
  c.alpn = e.alpn;
  c.tls_version = SSL_get_version(ssl);
  c.cipher = SSL_get_cipher_name(ssl);
  co_await serve_https(tls, c);
  beast::get_lowest_layer(tls).close();
}

}  // namespace cube::egress
