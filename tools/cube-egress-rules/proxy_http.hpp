// cube::egress proxy_http — HTTP/1.1 requests through the proxy, each decided on its own: on the
// plain-HTTP port (TCP 80 of sandboxes) and inside a decrypted TLS connection (proxy_mitm.hpp).
//
// Contract (doc/cube-egress-rules.md "The proxy"):
// - Requests are read with Boost.Beast, the head at most 64 KiB (else 431, a security event and
//   the connection closed); a keep-alive connection carries many, and each is decided against the
//   snapshot current when its head arrived.
// - Deny → 403 with a one-line JSON body {"rule": name or null, "reason": …}; the upstream is
//   never contacted. Its body, up to 1 MiB, is read and dropped so the connection stays open.
// - Allow → the rule's inject headers are removed from the request first; when the gates pass
//   they are set from the policy's secrets (proxy_inject.hpp); Host and X-Forwarded-* are set;
//   the request goes to the original destination (one upstream connection per client
//   connection, reopened when the upstream closes it) and the response comes back streamed.
//   An allow that rests on a name needs the destination to be an address of the name, else 403
//   dst_not_of_name. An upstream that cannot be reached or verified → 502 with reason
//   upstream_unreachable_or_unverified, a security event, and the connection closed.
// - An upgrade (WebSocket) answered 101 becomes a byte tunnel both ways until either side ends.
// - Every request writes an http_request audit line unless its level is none (security_event
//   lines are always written); full adds the bodies (audit_body_max bytes, redacted).
#pragma once

#include "proxy_context.hpp"
#include "proxy_upstream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

// What the requests of one connection share.
struct HttpConn {
  explicit HttpConn(ProxyContext& c) : ctx(c) {}
  ProxyContext& ctx;
  uint64_t connection = 0;
  uint32_t src = 0, dst = 0;
  uint16_t dst_port = 0;
  std::string scheme;  // http | https
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  std::string tls_version, cipher;
};

// A connection on the plain-HTTP port.
boost::asio::awaitable<void> handle_http(boost::asio::ip::tcp::socket client, ProxyContext& ctx);
// The requests of a decrypted connection; `client` has finished its handshake.
boost::asio::awaitable<void> serve_https(TlsStream& client, HttpConn& c);

}  // namespace cube::egress
