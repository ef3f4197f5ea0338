#include "proxy_health.hpp"

#include "json_writer.hpp"
#include "proxy_pool.hpp"
#include "timeutil.hpp"
#include "version.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string_view>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t k_max_head = 4096;
constexpr auto k_head_timeout = std::chrono::seconds(2);

std::string response(int code, std::string_view body) {
  std::string_view text = code == 200   ? "OK"
                          : code == 404 ? "Not Found"
                          : code == 405 ? "Method Not Allowed"
                          : code == 400 ? "Bad Request"
                                        : "Service Unavailable";
  return fmt::format(
      "HTTP/1.0 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: close\r\n\r\n{}",
      code, text, body.size(), body);
}

std::string error_body(std::string_view error) {
  json::Writer w;
  w.begin_object();
  w.field("error", error);
  w.end_object();
  return w.str() + "\n";
}

// What the request line asks for: the response to send.
std::string answer(std::string_view head, const ProxyContext& ctx, bool draining) {
  std::string_view line = head.substr(0, head.find("\r\n"));
  auto sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return response(400, error_body("bad request line"));
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (target != "/healthz") return response(404, error_body("only /healthz is served"));
  if (method != "GET" && method != "HEAD") return response(405, error_body("only GET"));
  HealthReport r = health_report(ctx, draining, time::steady_ms());
  std::string out = response(r.code, r.body);
  if (method == "HEAD") out.resize(out.find("\r\n\r\n") + 4);
  return out;
}

asio::awaitable<void> one_request(tcp::socket s, const ProxyContext& ctx, const std::atomic<bool>& draining) {
  asio::steady_timer deadline(s.get_executor());
  deadline.expires_after(k_head_timeout);
  deadline.async_wait([&s](const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    if (!ec) s.cancel(ignored);
  });
  asio::streambuf buf(k_max_head);
  boost::system::error_code ec;
  co_await asio::async_read_until(s, buf, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  if (ec) co_return;  // too slow, too large or gone: nothing worth answering
  std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
  std::string out = answer(head, ctx, draining.load());
  co_await asio::async_write(s, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  s.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

HealthReport health_report(const ProxyContext& ctx, bool draining, int64_t steady_now_ms) {
  auto snapshot = ctx.snapshot();
  HealthReport r;
  std::string_view status = draining ? "draining" : snapshot ? "ok" : "no_snapshot";
  r.code = status == "ok" ? 200 : 503;
  json::Writer w;
  w.begin_object();
  w.field("status", status);
  w.field("policies", static_cast<uint64_t>(snapshot ? snapshot->policies.size() : 0));
  w.field("failures", static_cast<uint64_t>(snapshot ? snapshot->failures.size() : 0));
  if (snapshot) w.field("snapshot_age_ms", steady_now_ms - snapshot->loaded_ms);
  w.field("connections", ctx.limits.open());
  if (ctx.pools) w.field("upstream_kept", static_cast<uint64_t>(ctx.pools->http.parked() + ctx.pools->tls.parked()));
  w.field("version", version::current().version);
  w.end_object();
  r.body = w.str() + "\n";
  return r;
}

asio::awaitable<void> serve_health(tcp::acceptor& acceptor, const ProxyContext& ctx,
                                   const std::atomic<bool>& draining) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), one_request(std::move(s), ctx, draining), asio::detached);
  }
}

}  // namespace cube::egress
