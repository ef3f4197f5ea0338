#include "proxy_tls.hpp"

#include "client_hello.hpp"
#include "log.hpp"
#include "proxy_mitm.hpp"
#include "proxy_plan.hpp"
#include "proxy_relay.hpp"
#include "proxy_upstream.hpp"
#include "timeutil.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <vector>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A fatal access_denied alert (RFC 8446 6.2): what a client sees when its SNI is refused.
constexpr std::array<uint8_t, 7> k_access_denied = {21, 3, 3, 0, 2, 2, 49};

uint32_t v4(const tcp::endpoint& e) { return e.address().to_v4().to_uint(); }

// Cancels `s`'s waits when the deadline passes; the connection then fails closed.
class Deadline {
 public:
  Deadline(tcp::socket& s, int64_t ms) : m_timer(s.get_executor()) {
    m_timer.expires_after(std::chrono::milliseconds(ms));
    m_timer.async_wait([&s, expired = m_expired](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the socket may be gone already
      *expired = true;
      boost::system::error_code ignored;
      s.cancel(ignored);
    });
  }
  ~Deadline() { m_timer.cancel(); }
  bool expired() const { return *m_expired; }

 private:
  asio::steady_timer m_timer;
  std::shared_ptr<bool> m_expired = std::make_shared<bool>(false);
};

// Peeks until the ClientHello is whole (or is not one); nothing is consumed. A client that does not
// send a whole one within the timeout (slowloris) gets need_more.
asio::awaitable<HelloPeek> peek_hello(tcp::socket& s, int64_t timeout_ms) {
  std::vector<uint8_t> buf(k_max_client_hello);
  Deadline deadline(s, timeout_ms);
  size_t have = 0;
  for (;;) {
    ssize_t n = ::recv(s.native_handle(), buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
      co_return HelloPeek{HelloPeek::Status::malformed, 0, "the client closed before a whole ClientHello", {}};
    if (n > 0 && static_cast<size_t>(n) != have) {
      have = static_cast<size_t>(n);
      HelloPeek p = peek_client_hello(std::span<const uint8_t>(buf.data(), have));
      if (p.status != HelloPeek::Status::need_more) co_return p;
    }
    boost::system::error_code ec;
    co_await s.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (deadline.expired())
      co_return HelloPeek{HelloPeek::Status::need_more, 0, "no whole ClientHello within the timeout", {}};
    if (ec) co_return HelloPeek{HelloPeek::Status::malformed, 0, ec.message(), {}};
  }
}

asio::awaitable<void> refuse(tcp::socket& s) {
  boost::system::error_code ec;
  co_await asio::async_write(s, asio::buffer(k_access_denied), asio::redirect_error(asio::use_awaitable, ec));
  s.shutdown(tcp::socket::shutdown_both, ec);
}

// Both directions of a relayed connection; the audit line is written when the last one ends.
struct Relay : std::enable_shared_from_this<Relay> {
  Relay(tcp::socket c, tcp::socket u, ProxyContext& ctx, ConnEvent e, const asio::any_io_executor& strand)
      : client(std::move(c)),
        upstream(std::move(u)),
        ctx(ctx),
        event(std::move(e)),
        start_ms(time::steady_ms()),
        both_ended(strand, asio::steady_timer::time_point::max()),
        idle(strand) {}
  ~Relay() {
    event.bytes_up = up;
    event.bytes_down = down;
    event.duration_ms = time::steady_ms() - start_ms;
    ctx.audit.write(event);
  }
  asio::awaitable<void> run(bool upward) {
    auto self = shared_from_this();  // both directions keep the relay alive
    bool clean = false;
    try {
      // Two statements, not ?: over two awaitables: g++ 12 destroys the one never made.
      if (upward)
        clean = co_await relay_one_way(client, upstream, up);
      else
        clean = co_await relay_one_way(upstream, client, down);
    } catch (const boost::system::system_error&) {
    }
    // A half-close lets the other direction run to its own end; a failure ends both.
    if (++ended == 2 || !clean) close();
    if (ended == 2) both_ended.cancel();
  }
  // Returns once both directions have ended.
  asio::awaitable<void> wait_both() {
    boost::system::error_code ec;
    if (ended < 2) co_await both_ended.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void close() {
    boost::system::error_code ec;
    client.close(ec);
    upstream.close(ec);
  }
  // A connection that moves no byte for the idle timeout is cut, with a security event.
  void watch_idle() {
    std::weak_ptr<Relay> w = weak_from_this();
    auto activity = [w] {
      auto r = w.lock();
      return r ? r->up + r->down : 0;
    };
    idle.start(ctx.options.idle_timeout_ms, activity, [w] {
      if (auto r = w.lock()) {
        ConnEvent s = r->event;
        s.event = "security_event";
        s.security_reason = "idle_timeout";
        r->ctx.audit.write(s);
        r->close();
      }
    });
  }
  tcp::socket client, upstream;
  ProxyContext& ctx;
  ConnEvent event;
  int64_t start_ms;
  uint64_t up = 0, down = 0;
  int ended = 0;
  asio::steady_timer both_ended;  // never expires: cancelled when the second direction ends
  IdleTimer idle;                 // last: it runs on the connection's strand, as both directions do
};

asio::awaitable<bool> connect_upstream(tcp::socket& upstream, const tcp::endpoint& dst, int64_t timeout_ms) {
  boost::system::error_code ec;
  upstream.open(tcp::v4(), ec);
  if (ec) co_return false;
  Deadline deadline(upstream, timeout_ms);
  co_await upstream.async_connect(dst, asio::redirect_error(asio::use_awaitable, ec));
  boost::system::error_code ignored;  // as for the client side (proxy_server.cpp)
  if (!ec) upstream.set_option(tcp::no_delay(true), ignored);
  co_return !ec;
}

}  // namespace

asio::awaitable<void> handle_tls(tcp::socket client, ProxyContext& ctx) {
  boost::system::error_code ec;
  tcp::endpoint src = client.remote_endpoint(ec), dst = client.local_endpoint(ec);
  if (ec) co_return;
  ConnEvent e;
  e.connection = ctx.next_connection();
  e.src = v4(src);
  e.dst = v4(dst);
  e.dst_port = dst.port();
  auto deny = [&](std::string reason) -> asio::awaitable<void> {
    e.event = "security_event";
    e.allow = false;
    e.security_reason = std::move(reason);
    ctx.audit.write(e);
    co_await refuse(client);
  };

  HelloPeek hello = co_await peek_hello(client, ctx.options.hello_timeout_ms);
  if (hello.status != HelloPeek::Status::complete) {
    static constexpr const char* k_names[] = {"client_hello_timeout", "", "client_hello_not_tls",
                                              "client_hello_too_large", "client_hello_malformed"};
    log::debug("connection {}: {}", e.connection, hello.error);
    if (auto snapshot = ctx.snapshot()) e.sandbox = find_source(*snapshot, e.src).sandbox;
    co_return co_await deny(k_names[static_cast<int>(hello.status)]);
  }
  e.sni = hello.hello.sni;
  e.alpn = hello.hello.alpn;

  auto snapshot = ctx.snapshot();
  if (!snapshot) co_return co_await deny("no_policy_loaded");
  Lookup l = find_source(*snapshot, e.src);
  e.sandbox = l.sandbox;
  if (l.status == Lookup::Status::unknown_source) co_return co_await deny("unknown_source");
  if (l.status == Lookup::Status::no_policy) co_return co_await deny("no_policy");

  TlsPlan plan = plan_tls(*l.policy, e.sni, e.dst);
  if (plan.decision.rule) e.rule = l.policy->matcher.rule(*plan.decision.rule).name;
  e.reason = std::string(reason_name(plan.decision.reason));
  if (plan.action == TlsAction::decrypt) co_return co_await decrypt(std::move(client), ctx, std::move(e));
  if (plan.action == TlsAction::refuse) {
    if (plan.decision.security_event) co_return co_await deny(e.reason);
    e.event = "tls_passthrough";
    ctx.audit.write(e);
    co_return co_await refuse(client);
  }
  if (plan.by_name) {
    bool of_name = false;
    if (e.sni) of_name = co_await dst_is_of_name(ctx.names, e.sandbox, *l.policy, *e.sni, e.dst);
    if (!of_name) co_return co_await deny("dst_not_of_name");
  }

  tcp::socket upstream(client.get_executor());
  if (!co_await connect_upstream(upstream, dst, ctx.options.connect_timeout_ms))
    co_return co_await deny("upstream_unreachable");
  client.native_non_blocking(true, ec);
  upstream.native_non_blocking(true, ec);
  e.event = "tls_passthrough";
  e.allow = true;
  // Both directions on this coroutine's strand, and awaited both: the connection counts as open
  // (its limit slot, the drain) until its last byte is relayed.
  auto strand = co_await asio::this_coro::executor;
  auto relay = std::make_shared<Relay>(std::move(client), std::move(upstream), ctx, std::move(e), strand);
  relay->watch_idle();
  asio::co_spawn(strand, relay->run(false), asio::detached);
  co_await relay->run(true);
  co_await relay->wait_both();
}

}  // namespace cube::egress
