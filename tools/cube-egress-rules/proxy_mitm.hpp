// cube::egress proxy_mitm — a TLS connection that only its HTTP requests can decide: the proxy
// ends the sandbox's TLS with a leaf of its own and speaks to the upstream with its own TLS.
//
// Contract:
// - Interception holds what every decrypted connection shares: the leaf cache (proxy_mint.hpp,
//   signed by the cluster CA), the server context (TLS 1.2/1.3, ALPN http/1.1 only: a client
//   offering only h2 gets no ALPN and speaks HTTP/1.1) and the upstream trust (proxy_upstream.hpp).
// - decrypt() shows the sandbox the leaf of its SNI (of the destination address without one),
//   then serves its requests (proxy_http.hpp). No CA, a leaf that cannot be minted or a client
//   that does not finish the handshake within the hello timeout → a tls_handshake line with
//   security reason cert_signer_failed:… or client_handshake_failed, and the connection closed.
#pragma once

#include "proxy_context.hpp"
#include "proxy_mint.hpp"
#include "proxy_upstream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace cube::egress {

struct Interception {
  Interception(ca::Authority ca, const std::string& upstream_ca_file);
  LeafCache leaves;
  boost::asio::ssl::context server{boost::asio::ssl::context::tls_server};
  UpstreamTls upstream;
};

// The interception of a serve run, or null (logged) when the CA cannot be read: decrypted
// connections are then refused. A bad upstream_ca_file throws Error.
std::unique_ptr<Interception> load_interception(const ServeOptions& o);

// `e` is the connection's event so far (addresses, SNI, ALPN, sandbox).
boost::asio::awaitable<void> decrypt(boost::asio::ip::tcp::socket client, ProxyContext& ctx, ConnEvent e);

}  // namespace cube::egress
