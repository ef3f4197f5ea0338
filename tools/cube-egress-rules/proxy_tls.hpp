// cube::egress proxy_tls — one connection on the TLS port: read the ClientHello without consuming
// it, decide (proxy_plan), then relay the bytes untouched or refuse with a TLS alert.
//
// Contract (doc/cube-egress-rules.md "The proxy"):
// - The original destination is the accepted socket's local address (TPROXY keeps it); the
//   sandbox is the one whose in_use TAP address is the source. Unknown source, no policy, no
//   snapshot, a ClientHello that is not TLS, too large, malformed or not whole within the hello
//   timeout → refused with a security_event (fail closed).
// - A relay allowed by a name (a rule's sni, an allowOut domain) goes ahead only when the
//   destination is one of the name's addresses as the node's resolver answers; else it is refused
//   with dst_not_of_name.
// - A connection only its HTTP requests can decide (a rule that needs HTTP fields or injects) is
//   decrypted (proxy_mitm.hpp) and each request decided on its own.
// - Refusing sends a fatal access_denied alert and closes. Relayed connections write a
//   tls_passthrough line when they end, with the bytes each way and the duration.
#pragma once

#include "proxy_context.hpp"

#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cube::egress {

boost::asio::awaitable<void> handle_tls(boost::asio::ip::tcp::socket client, ProxyContext& ctx);

}  // namespace cube::egress
