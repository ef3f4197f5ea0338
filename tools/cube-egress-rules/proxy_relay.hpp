// cube::egress proxy_relay — bytes between two TCP sockets through the kernel (splice(2) through a
// pipe), so a relayed TLS connection is never copied into the proxy, let alone decrypted.
//
// Contract: relay_one_way() moves `from` → `to` until `from` ends (then shuts down `to`'s writing
// side, so half-closes pass through, and returns true) or either side fails (returns false, or
// throws when a wait fails; the caller closes both).
// Both sockets must be non-blocking; the coroutine waits on readiness with Asio and splices. The
// count of bytes moved is added to `moved` as they go.
#pragma once

#include <utility>  // before Boost.Asio: Boost 1.74's awaitable.hpp needs it with g++ 12

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace cube::egress {

boost::asio::awaitable<bool> relay_one_way(boost::asio::ip::tcp::socket& from, boost::asio::ip::tcp::socket& to,
                                           uint64_t& moved);

}  // namespace cube::egress
