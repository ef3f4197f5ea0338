#include "proxy_upstream.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <chrono>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

constexpr unsigned char k_alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

UpstreamTls::UpstreamTls(const std::string& ca_file) {
  SSL_CTX* ctx = m_ctx.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify_depth(ctx, 4);
  m_ctx.set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  m_ctx.set_default_verify_paths(ec);
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
    throw Error(Exit::usage, fmt::format("[egress] upstream_ca_file {}: no certificates could be read", ca_file));
  SSL_CTX_set_alpn_protos(ctx, k_alpn_http11, sizeof k_alpn_http11);
}

asio::awaitable<std::string> open_tcp(beast::tcp_stream& s, const tcp::endpoint& dst, int64_t timeout_ms) {
  boost::system::error_code ec;
  s.expires_after(std::chrono::milliseconds(timeout_ms));
  co_await s.async_connect(dst, asio::redirect_error(asio::use_awaitable, ec));
  s.expires_never();
  co_return ec ? fmt::format("connect: {}", ec.message()) : std::string();
}

asio::awaitable<std::string> open_tls(TlsStream& s, const tcp::endpoint& dst, const std::optional<std::string>& sni,
                                      int64_t timeout_ms) {
  std::string failed = co_await open_tcp(beast::get_lowest_layer(s), dst, timeout_ms);
  if (!failed.empty()) co_return failed;
  SSL* ssl = s.native_handle();
  if (sni) {
    SSL_set_tlsext_host_name(ssl, sni->c_str());
    SSL_set1_host(ssl, sni->c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), dst.address().to_string().c_str());
  }
  boost::system::error_code ec;
  beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(timeout_ms));
  co_await s.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  beast::get_lowest_layer(s).expires_never();
  if (!ec) co_return std::string();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) co_return fmt::format("certificate: {}", X509_verify_cert_error_string(verify));
  co_return fmt::format("handshake: {}", ec.message());
}

asio::awaitable<bool> dst_is_of_name(const std::string& name, uint32_t dst) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  auto results = co_await resolver.async_resolve(tcp::v4(), name, "443", asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  for (const auto& r : results)
    if (r.endpoint().address().is_v4() && r.endpoint().address().to_v4().to_uint() == dst) co_return true;
  co_return false;
}

}  // namespace cube::egress
