// cube::egress proxy_health — `serve --health ADDR:PORT`: GET /healthz answers how the proxy is.
//
// Contract (cube-egress-rules(1) HEALTH):
// - Listens on a loopback address the caller checked; answers GET /healthz (a query is ignored)
//   with 200 and one JSON object {status, policies, failures, snapshot_age_ms, connections,
//   version}: status "ok", or "draining" with 503 once SIGTERM arrived, or "no_snapshot" with 503
//   before the first load. Anything else gets 404 (another path) or 405 (another method); a request
//   head past 4 KiB or slower than 2 s is cut. HTTP/1.0 semantics: one request, then close.
// - It runs on the proxy's event loop: a proxy too stuck to decide is too stuck to answer.
#pragma once

#include "proxy_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <string>

namespace cube::egress {

// The body of GET /healthz and its status code.
struct HealthReport {
  int code = 200;
  std::string body;
};
HealthReport health_report(const ProxyContext& ctx, bool draining, int64_t steady_now_ms);

// Serves until the acceptor is closed.
boost::asio::awaitable<void> serve_health(boost::asio::ip::tcp::acceptor& acceptor, const ProxyContext& ctx,
                                          const std::atomic<bool>& draining);

}  // namespace cube::egress
