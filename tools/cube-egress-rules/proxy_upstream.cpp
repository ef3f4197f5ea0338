#include "proxy_upstream.hpp"

#include "dns_learner.hpp"
#include "error.hpp"
#include "learned_names.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

constexpr unsigned char k_alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr size_t k_max_sessions = 4096;

// Where a connection's new sessions go: its cache and its key, hung on the SSL object.
struct SessionSlot {
  UpstreamTls* cache;
  std::string key;
};
int slot_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<SessionSlot*>(p); });
  return index;
}

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
  // Sessions are kept by (destination, SNI) here, not in OpenSSL's cache, which is keyed by the
  // server's session id alone.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

void UpstreamTls::resume(SSL* ssl, const std::string& key) {
  SSL_set_ex_data(ssl, slot_index(), new SessionSlot{this, key});
  std::lock_guard lock(m_mutex);
  auto it = m_sessions.find(key);
  if (it != m_sessions.end()) SSL_set_session(ssl, it->second.get());
}

void UpstreamTls::forget(const std::string& key) {
  std::lock_guard lock(m_mutex);
  m_sessions.erase(key);
}

int UpstreamTls::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, slot_index()));
  if (!slot || !SSL_SESSION_is_resumable(session)) return 0;
  // A copy: the connection's own session is marked not resumable if that connection ends without
  // a clean shutdown, which must not spoil the next one.
  if (SSL_SESSION* copy = SSL_SESSION_dup(session)) slot->cache->keep(slot->key, copy);
  return 0;
}

void UpstreamTls::keep(const std::string& key, SSL_SESSION* session) {
  std::lock_guard lock(m_mutex);
  // Bounded without bookkeeping: when full, start again (the next handshake of each pair refills).
  if (m_sessions.size() >= k_max_sessions && !m_sessions.count(key)) m_sessions.clear();
  m_sessions[key].reset(session);
}

asio::awaitable<std::string> open_tcp(beast::tcp_stream& s, const tcp::endpoint& dst, int64_t timeout_ms) {
  boost::system::error_code ec;
  s.expires_after(std::chrono::milliseconds(timeout_ms));
  co_await s.async_connect(dst, asio::redirect_error(asio::use_awaitable, ec));
  s.expires_never();
  boost::system::error_code ignored;  // as for the client side (proxy_server.cpp)
  if (!ec) s.socket().set_option(tcp::no_delay(true), ignored);
  co_return ec ? fmt::format("connect: {}", ec.message()) : std::string();
}

asio::awaitable<std::string> open_tls(TlsStream& s, UpstreamTls& tls, const tcp::endpoint& dst,
                                      const std::optional<std::string>& sni, int64_t timeout_ms) {
  std::string failed = co_await open_tcp(beast::get_lowest_layer(s), dst, timeout_ms);
  if (!failed.empty()) co_return failed;
  SSL* ssl = s.native_handle();
  std::string key = fmt::format("{}:{}/{}", dst.address().to_string(), dst.port(), sni.value_or(""));
  tls.resume(ssl, key);
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
  tls.forget(key);
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) co_return fmt::format("certificate: {}", X509_verify_cert_error_string(verify));
  co_return fmt::format("handshake: {}", ec.message());
}

namespace {

// What the resolver said of a name, kept 5 s: the resolver answers on one thread of its own, and a
// lookup per connection made it the proxy's bottleneck (and a sandbox could keep it busy for all).
struct NameCache {
  struct Entry {
    std::vector<uint32_t> addresses;
    int64_t expires_ms;
  };
  static constexpr int64_t k_ttl_ms = 5000;
  static constexpr size_t k_max_names = 4096;

  std::optional<std::vector<uint32_t>> find(const std::string& name, int64_t now_ms) {
    std::lock_guard lock(mutex);
    auto it = names.find(name);
    if (it == names.end() || it->second.expires_ms <= now_ms) return std::nullopt;
    return it->second.addresses;
  }
  void keep(const std::string& name, std::vector<uint32_t> addresses, int64_t now_ms) {
    std::lock_guard lock(mutex);
    if (names.size() >= k_max_names && !names.count(name)) names.clear();
    names[name] = Entry{std::move(addresses), now_ms + k_ttl_ms};
  }

  std::mutex mutex;
  std::unordered_map<std::string, Entry> names;
};

NameCache& name_cache() {
  static NameCache cache;
  return cache;
}

}  // namespace

namespace {

// What the sandbox was told first: a point query on a local file, where the resolver may be a
// network round trip. A file that fails to read is taken as saying nothing (the resolver decides),
// and said once a minute at most, not once per connection.
bool learned_by_sandbox(NamesReader* names, const std::string& sandbox, const CompiledPolicy& policy,
                        const std::string& name, uint32_t dst) {
  if (!names || sandbox.empty() || !names_may_vouch(policy, dst)) return false;
  try {
    return names->has(sandbox, name, dst, policy.resolvers, time::now_ms(), time::steady_ms());
  } catch (const Error& e) {
    static std::atomic<int64_t> next_warning_ms{0};
    int64_t now = time::steady_ms(), due = next_warning_ms.load();
    if (now >= due && next_warning_ms.compare_exchange_strong(due, now + 60'000)) log::warn("{}", e.message());
    return false;
  }
}

}  // namespace

// Either source suffices. The node's resolver's answer, when cached, is looked at first: it is in
// memory, and it is the one that agrees in the common case. The names file comes before a lookup.
asio::awaitable<bool> dst_is_of_name(NamesReader* names, const std::string& sandbox, const CompiledPolicy& policy,
                                     const std::string& name, uint32_t dst) {
  auto has_dst = [dst](const std::vector<uint32_t>& a) { return std::find(a.begin(), a.end(), dst) != a.end(); };
  int64_t now = time::steady_ms();  // the cache's own expiry: an interval
  std::optional<std::vector<uint32_t>> addresses = name_cache().find(name, now);
  if (addresses && has_dst(*addresses)) co_return true;
  if (learned_by_sandbox(names, sandbox, policy, name, dst)) co_return true;
  if (addresses) co_return false;
  tcp::resolver resolver(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  auto results = co_await resolver.async_resolve(tcp::v4(), name, "443", asio::redirect_error(asio::use_awaitable, ec));
  addresses.emplace();
  if (!ec)
    for (const auto& r : results)
      if (r.endpoint().address().is_v4()) addresses->push_back(r.endpoint().address().to_v4().to_uint());
  name_cache().keep(name, *addresses, now);
  co_return has_dst(*addresses);
}

}  // namespace cube::egress
