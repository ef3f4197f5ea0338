// cube::egress proxy_upstream — the proxy's own connections to where a sandbox's request goes:
// always the original destination, never a name the sandbox chose.
//
// Contract:
// - UpstreamTls trusts the system store plus [egress] upstream_ca_file, TLS 1.2 or 1.3 only,
//   chains of depth 4 at most, and offers ALPN http/1.1 only. It keeps the last session each
//   (destination, SNI) gave, at most 4,096 of them, and offers it on the next connection to the same
//   pair: a resumed handshake skips the server's signature and our chain check, both already done
//   for that name at that address. A failed handshake forgets the pair's session.
// - open_tcp() connects within the timeout; open_tls() also shakes hands with SNI = the client's
//   and verifies the certificate against that name (against the address when there is no SNI).
//   Both return an empty string on success, else why not (never thrown: the caller answers 502).
// - dst_is_of_name() says whether `dst` is an address of `name` for `sandbox`: one its policy's
//   resolver gave it (the names file the DNS relay keeps, learned_names.hpp), else one the node's
//   resolver gives. The names file never vouches for an address the policy denies outright (a
//   private range, a narrow denyOut entry; dns_learner.hpp names_may_vouch).
//   Each name's answer from the node's resolver (addresses, or none) is kept 5 s, for at most
//   4,096 names.
#pragma once

#include <utility>  // before Boost.Asio: Boost 1.74's awaitable.hpp needs it with g++ 12

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace cube::egress {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class UpstreamTls {
 public:
  explicit UpstreamTls(const std::string& ca_file);  // throws Error naming the file
  boost::asio::ssl::context& context() { return m_ctx; }

  // Before the handshake: offer the session `key` last gave, and file the ones this connection
  // gets under it. After a failed one: forget it.
  void resume(SSL* ssl, const std::string& key);
  void forget(const std::string& key);

 private:
  struct FreeSession {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
  };
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  void keep(const std::string& key, SSL_SESSION* session);

  boost::asio::ssl::context m_ctx{boost::asio::ssl::context::tls_client};
  std::mutex m_mutex;
  std::unordered_map<std::string, std::unique_ptr<SSL_SESSION, FreeSession>> m_sessions;
};

boost::asio::awaitable<std::string> open_tcp(boost::beast::tcp_stream& s, const boost::asio::ip::tcp::endpoint& dst,
                                             int64_t timeout_ms);
boost::asio::awaitable<std::string> open_tls(TlsStream& s, UpstreamTls& tls, const boost::asio::ip::tcp::endpoint& dst,
                                             const std::optional<std::string>& sni, int64_t timeout_ms);

class NamesReader;
struct CompiledPolicy;
// `names` may be null: the node's resolver alone.
boost::asio::awaitable<bool> dst_is_of_name(NamesReader* names, const std::string& sandbox,
                                            const CompiledPolicy& policy, const std::string& name, uint32_t dst);

}  // namespace cube::egress
