#include "proxy_http.hpp"

#include "ipv4.hpp"
#include "json_writer.hpp"
#include "log.hpp"
#include "proxy_http_decide.hpp"
#include "proxy_http_head.hpp"
#include "proxy_http_redact.hpp"
#include "proxy_http_relay.hpp"
#include "proxy_inject.hpp"
#include "proxy_mitm.hpp"
#include "proxy_pool.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>

#include <limits>
#include <map>
#include <type_traits>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using error_code = boost::system::error_code;
using relay_detail::arm;
using relay_detail::redirect;

constexpr size_t k_max_audit_headers = 100;
// Bodies stream through, so they have no limit; not boost::none: Boost 1.74's parser compares a
// length with the optional and takes none for the smaller.
constexpr uint64_t k_no_body_limit = std::numeric_limits<uint64_t>::max();
constexpr uint64_t k_max_discarded_body = 1 << 20;  // a denied request's body read to keep its connection
constexpr int64_t k_linger_ms = 1000;               // how long a closing connection waits for the sandbox

std::string text(beast::string_view s) { return std::string(s.data(), s.size()); }

// One request and what is known of it so far.
struct Exchange {
  HttpEvent e;
  Request r;
  Verdict v;
  Audit level = Audit::metadata;
  bool client_keeps = true;              // the sandbox's connection stays open after this response
  bool awaits_continue = false;          // the sandbox waits for a 100 before it sends its body
  int64_t start_us = time::steady_us();  // for its duration and the pool's timing: never steps
};

// An error that says the peer ended the connection (not a timeout, not a bad message).
bool connection_ended(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

// Whether the sandbox sent `Expect: 100-continue` and waits for the 100 before its body. The
// expectation is taken off the head: the proxy answers it itself once the request is allowed and its
// upstream connection open (as nginx and Envoy do), so the body is never held up by a client's
// timeout. An HTTP/1.0 request's is ignored, as RFC 9110 §10.1.1 says a server must.
bool take_continue(http::request_parser<http::buffer_body>& p) {
  auto& h = p.get();
  auto it = h.find(http::field::expect);
  if (it == h.end() || !beast::iequals(it->value(), "100-continue")) return false;
  h.erase(it);
  return h.version() >= 11 && !p.is_done();
}

// A message that does not parse (not one that merely ended early).
bool malformed(const error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Methods a proxy may send again on its own (RFC 9110 §9.2.2).
bool idempotent(http::verb v) {
  using enum http::verb;
  return v == get || v == head || v == options || v == trace || v == put || v == delete_;
}

std::vector<std::pair<std::string, std::string>> redacted_headers(const http::fields& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : h) {
    std::string name = text(f.name_string());
    auto same = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return beast::iequals(kv.first, name); });
    std::string value = redact_header(name, text(f.value()));
    if (same != out.end())
      same->second += ", " + value;
    else if (out.size() < k_max_audit_headers)
      out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

template <class S>
class Session {
 public:
  Session(S& client, HttpConn& c) : m_client(client), m_c(c), m_ms(c.ctx.options.upstream_io_timeout_ms) {}
  asio::awaitable<void> run() {
    // Not `while (co_await one())`: g++ 12 miscompiles an await in a loop condition.
    for (;;) {
      bool more = co_await one();
      if (!more) break;
    }
    park();
  }

 private:
  asio::awaitable<bool> one() {
    http::request_parser<http::buffer_body> p;
    p.header_limit(k_max_request_head);
    p.body_limit(k_no_body_limit);
    error_code ec;
    arm(m_client, m_ms);
    co_await http::async_read_header(m_client, m_cbuf, p, redirect(ec));
    if (ec) co_return co_await bad_head(ec);
    Exchange x = begin(p.get());
    x.awaits_continue = take_continue(p);
    // Awaits as statements of their own: g++ 12 miscompiles them inside conditions.
    if (x.v.decision.allow && x.v.name) {
      bool of_name = co_await name_is_dst(x.v, *x.v.name);
      if (!of_name) {
        x.v.decision.allow = false;
        x.v.security_reason = "dst_not_of_name";
      }
    }
    if (!x.v.decision.allow) co_return co_await deny(x, p);
    co_return co_await forward(x, p);
  }

  Exchange begin(const http::request_header<>& h) {
    Exchange x;
    HttpEvent& e = x.e;
    e.connection = m_c.connection;
    e.request = ++m_count;
    e.src = m_c.src;
    e.dst = m_c.dst;
    e.dst_port = m_c.dst_port;
    e.sni = m_c.sni;
    e.alpn = m_c.alpn;
    e.tls_version = m_c.tls_version;
    e.cipher = m_c.cipher;
    e.scheme = m_c.scheme;
    e.method = text(h.method_string());
    e.path = text(h.target());
    if (auto host = h.find(http::field::host); host != h.end()) e.host = text(host->value());
    if (auto ua = h.find(http::field::user_agent); ua != h.end()) e.user_agent = text(ua->value());
    x.r = request_of(h, m_c.scheme, m_c.sni, m_c.dst);
    x.v = decide_http(m_c.ctx.snapshot().get(), m_c.src, x.r);
    e.sandbox = x.v.sandbox;
    if (const CompiledRule* rule = x.v.rule()) e.rule = rule->name;
    if (x.v.decided) e.reason = std::string(reason_name(x.v.decision.reason));
    x.level = x.v.decision.rule ? x.v.decision.audit : m_c.ctx.options.audit_level;
    e.audit = std::string(audit_name(x.level));
    return x;
  }

  asio::awaitable<bool> name_is_dst(const Verdict& v, const std::string& name) {
    auto it = m_names.find(name);
    if (it != m_names.end()) co_return it->second;
    bool of_name = co_await dst_is_of_name(m_c.ctx.names, v.sandbox, *v.policy, name, m_c.dst);
    m_names.emplace(name, of_name);
    co_return of_name;
  }

  asio::awaitable<bool> deny(Exchange& x, http::request_parser<http::buffer_body>& p) {
    // A body left unread would be taken for the next request: read and dropped, or, when it is
    // large or the sandbox waits for a 100 before sending it, the connection ends here.
    bool close = !p.get().keep_alive() || x.awaits_continue;
    if (!close) close = !(co_await discard_body(p));
    x.e.status = 403;
    std::string reason = x.v.security_reason.empty() ? x.e.reason : x.v.security_reason;
    audit(x);
    co_await respond(http::status::forbidden, x.e.rule, reason, close);
    // A body left unread (too large, a close asked for, or one that waited for a 100 the sandbox
    // may have stopped waiting for): read what comes before the close, which would else reset.
    if (close && !p.is_done()) co_await linger();
    co_return !close;
  }

  asio::awaitable<bool> discard_body(http::request_parser<http::buffer_body>& p) {
    std::array<char, 16384> chunk;
    uint64_t total = 0;
    error_code ec;
    while (!p.is_done()) {
      p.get().body().data = chunk.data();
      p.get().body().size = chunk.size();
      arm(m_client, m_ms);
      co_await http::async_read(m_client, m_cbuf, p, redirect(ec));
      if (ec == http::error::need_buffer) ec = {};
      total += chunk.size() - p.get().body().size;
      if (ec || total > k_max_discarded_body) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> forward(Exchange& x, http::request_parser<http::buffer_body>& p) {
    auto& req = p.get();
    const CompiledRule* rule = x.v.rule();
    if (rule) strip_injected(req.base(), *rule);
    if (x.level != Audit::none) x.e.headers = redacted_headers(req.base());
    set_forwarding(req.base(), m_c.scheme, m_c.sni, m_c.dst);
    // Connection is hop-by-hop: the sandbox's `close` ends its own connection, not the proxy's
    // upstream one, which stays for the sandbox's next (proxy_pool.hpp).
    x.client_keeps = req.keep_alive();
    if (!p.upgrade()) req.keep_alive(true);
    InjectOutcome io;
    if (x.v.decision.inject) {
      io = apply_injects(req.base(), *rule, x.v.secrets.get());
      if (!io.skipped_reason.empty() && x.v.security_reason.empty()) x.v.security_reason = io.skipped_reason;
    } else if (rule && !rule->inject.empty()) {
      x.e.inject_dropped = std::string(reason_name(x.v.decision.reason));
    }
    x.e.injected = io.injected;
    x.e.secret_ids = io.secret_ids;
    bool ok = co_await exchange(x, p);
    scrub(req.base(), io.injected);
    co_return ok;
  }

  // The request upstream and the response back.
  asio::awaitable<bool> exchange(Exchange& x, http::request_parser<http::buffer_body>& p) {
    BodyTap req_tap(x.level == Audit::full ? m_c.ctx.options.audit_body_max : 0);
    std::optional<http::response_parser<http::buffer_body>> rp;
    Failed failed = co_await send(x, p, rp, req_tap);
    x.e.req_bytes = req_tap.bytes;
    if (failed.by_sandbox) co_return co_await sandbox_failed(x, failed);
    if (failed) co_return co_await bad_gateway(x, failed.why);
    auto& res = rp->get();
    x.e.status = static_cast<int>(res.result_int());
    bool upstream_keeps = rp->keep_alive();      // the parser's: false too for a body that ends with the connection
    if (!x.client_keeps) res.keep_alive(false);  // it asked to close: say so (RFC 9112 §9.6)
    BodyTap resp_tap(req_tap.max);
    Relayed answered = co_await relay_message(*m_up, m_ubuf, *rp, m_client, resp_tap, m_ms);
    error_code ec = answered.ec;
    x.e.resp_bytes = resp_tap.bytes;
    if (req_tap.max) {
      if (req_tap.bytes) x.e.request_body = redact_body(req_tap.kept, req_tap.max);
      if (resp_tap.bytes) x.e.response_body = redact_body(resp_tap.kept, resp_tap.max);
    }
    audit(x);
    if (x.e.status == 101) {  // switched protocols: a tunnel when asked for, never a kept connection
      if (!ec && p.upgrade()) co_await tunnel(m_client, m_cbuf, *m_up, m_ubuf, m_ms);
      drop_upstream();
      co_return false;
    }
    settle_upstream(x, !ec && upstream_keeps);
    co_return !ec && upstream_keeps && x.client_keeps;
  }

  // The request sent and the final response's head read. A kept connection may have been closed by
  // the upstream just as it was taken: when it ended before a byte of answer came, a request without
  // a body and with an idempotent method is sent once more on a new connection; any other fails
  // (its body is gone).
  struct Failed {
    std::string why;          // empty: sent, and the final head read
    bool by_sandbox = false;  // the sandbox's side failed (gone, stalled, or a bad body), not the upstream
    error_code ec;            // when by_sandbox
    explicit operator bool() const { return !why.empty(); }
  };

  asio::awaitable<Failed> send(Exchange& x, http::request_parser<http::buffer_body>& p,
                               std::optional<http::response_parser<http::buffer_body>>& rp, BodyTap& tap) {
    bool replayable = p.is_done() && idempotent(p.get().method());
    for (bool may_reuse = true;; may_reuse = false) {
      // Awaits as statements of their own: g++ 12 miscompiles some inside conditions and initialisers.
      std::string opened = co_await open_upstream(x.v.sandbox, may_reuse);
      if (!opened.empty()) co_return Failed{opened, false, {}};
      if (x.awaits_continue) {  // only a request with a body to come, so never one sent again
        x.awaits_continue = false;
        error_code ec = co_await send_continue();
        if (ec) co_return Failed{fmt::format("sending 100 Continue to the sandbox: {}", ec.message()), true, ec};
      }
      bool served = m_up_served;
      Sent sent = co_await send_once(p, rp, tap);
      if (!sent.ec) co_return Failed{};
      Failed failed{fmt::format("{}: {}", sent.doing, sent.ec.message()), sent.by_sandbox, sent.ec};
      if (!served || !replayable || sent.heard || sent.by_sandbox || m_ubuf.size() > 0 || !connection_ended(sent.ec))
        co_return failed;
      log::debug("connection {} request {}: a kept upstream connection had ended ({}); sending again on a new one",
                 m_c.connection, m_count, failed.why);
      drop_upstream();
    }
  }

  struct Sent {
    error_code ec;
    const char* doing = "";
    bool heard = false;       // a response head came (an interim one counts)
    bool by_sandbox = false;  // ec came from the sandbox's side
  };

  asio::awaitable<error_code> send_continue() {
    static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
    error_code ec;
    arm(m_client, m_ms);
    co_await asio::async_write(m_client, asio::buffer(k_continue), redirect(ec));
    co_return ec;
  }

  // Interim responses (100 Continue, 103 Early Hints) are passed on as they come to an HTTP/1.1
  // client (RFC 9110 §15.2); the head read last is the final response's.
  asio::awaitable<Sent> send_once(http::request_parser<http::buffer_body>& p,
                                  std::optional<http::response_parser<http::buffer_body>>& rp, BodyTap& tap) {
    Sent s;
    Relayed sent = co_await relay_message(m_client, m_cbuf, p, *m_up, tap, m_ms);
    s.ec = sent.ec;
    s.by_sandbox = sent.reading;
    if (s.ec) co_return (s.doing = sent.reading ? "reading the request from the sandbox" : "sending the request", s);
    for (;;) {
      rp.emplace();
      rp->body_limit(k_no_body_limit);
      if (p.get().method() == http::verb::head) rp->skip(true);
      arm(*m_up, m_ms);
      co_await http::async_read_header(*m_up, m_ubuf, *rp, redirect(s.ec));
      if (s.ec) co_return (s.doing = "reading the response", s);
      s.heard = true;
      unsigned status = rp->get().result_int();
      if (status < 100 || status >= 200 || status == 101) co_return s;
      if (p.get().version() < 11) continue;  // an HTTP/1.0 client must get none (RFC 9110 §15.2)
      http::response<http::empty_body> interim(std::move(rp->get().base()));
      arm(m_client, m_ms);
      co_await http::async_write(m_client, interim, redirect(s.ec));
      if (s.ec) co_return (s.doing = "passing on an interim response", s.by_sandbox = true, s);
    }
  }

  // After a response: the upstream connection stays for the next request when it ended cleanly.
  // It may also be parked for another connection of the sandbox, which may run on another strand.
  // That is safe when nothing of the stream is pending: the new owner's waits and their timeouts
  // run on the new owner's strand (Beast binds them to the awaiting handler), and none of this
  // owner's timeouts can still be queued, because every wait of this exchange began after
  // start_us, so none has expired while less than the shortest timeout has passed, and each
  // was cancelled by its operation's end. A fired one would run later on this strand.
  void settle_upstream(const Exchange& x, bool upstream_keeps) {
    if (!upstream_keeps || m_ubuf.size() > 0) return drop_upstream();  // bytes no request asked for
    m_up_served = true;
    int64_t shortest_ms = std::min(m_ms, m_c.ctx.options.connect_timeout_ms);
    int64_t now = time::steady_ms();
    if (now - x.start_us / 1000 < shortest_ms)
      m_parkable_since = now;
    else
      m_parkable_since.reset();
  }

  void drop_upstream() {
    m_up.reset();
    m_ubuf.consume(m_ubuf.size());
    m_parkable_since.reset();
  }

  // The connection's end: its upstream connection goes to the pool for the sandbox's next one.
  void park() {
    UpstreamPool<S>* to = pool();
    if (!to || !m_up || !m_parkable_since) return;
    to->park(m_up_sandbox, pool_key(m_up_sandbox), std::move(*m_up), *m_parkable_since);
    m_up.reset();
  }

  UpstreamPool<S>* pool() {
    UpstreamPools* pools = m_c.ctx.pools;
    if (!pools) return nullptr;
    if constexpr (std::is_same_v<S, TlsStream>)
      return &pools->tls;
    else
      return &pools->http;
  }

  // The sandbox's id as well as its address: an address given to another sandbox within the idle
  // time must not hand it the last one's connections (an upstream may tie state to a connection).
  std::string pool_key(const std::string& sandbox) const {
    return fmt::format("{}@{}>{}:{}/{}", sandbox, ipv4::format(m_c.src), ipv4::format(m_c.dst), m_c.dst_port,
                       m_c.sni.value_or(""));
  }

  // For `sandbox`; `may_reuse`: a kept connection of the sandbox may be taken.
  asio::awaitable<std::string> open_upstream(const std::string& sandbox, bool may_reuse) {
    if (m_up && m_up_sandbox == sandbox) co_return std::string();
    drop_upstream();  // none, or one of the sandbox that had this address before
    m_up_served = false;
    m_up_sandbox = sandbox;
    if (UpstreamPool<S>* from = pool(); from && may_reuse) {
      if (std::optional<S> kept = from->take(pool_key(sandbox), time::steady_ms())) {
        m_up.emplace(std::move(*kept));
        m_up_served = true;
        co_return std::string();
      }
    }
    auto ex = co_await asio::this_coro::executor;
    tcp::endpoint dst(asio::ip::address_v4(m_c.dst), m_c.dst_port);
    std::string failed;
    if constexpr (std::is_same_v<S, TlsStream>) {
      m_up.emplace(ex, m_c.ctx.interception->upstream.context());
      failed =
          co_await open_tls(*m_up, m_c.ctx.interception->upstream, dst, m_c.sni, m_c.ctx.options.connect_timeout_ms);
    } else {
      m_up.emplace(ex);
      failed = co_await open_tcp(*m_up, dst, m_c.ctx.options.connect_timeout_ms);
    }
    if (!failed.empty()) m_up.reset();
    co_return failed;
  }

  // The sandbox's side failed before its request was whole or its answer began. A body that does
  // not parse is a bad request (400 and a security event, as a bad head is). A sandbox that went
  // away or stalled past the timeout gets nothing and is logged as 499, nginx's "client closed
  // request". Either way the upstream connection holds half a request and cannot be kept.
  asio::awaitable<bool> sandbox_failed(Exchange& x, const Failed& f) {
    log::debug("connection {} request {}: {}", m_c.connection, m_count, f.why);
    drop_upstream();
    if (!malformed(f.ec)) {
      x.e.status = 499;
      audit(x);
      co_return false;
    }
    x.e.status = 400;
    x.v.security_reason = "bad_request";
    audit(x);
    co_await respond(http::status::bad_request, x.e.rule, x.v.security_reason, true);
    co_await linger();
    co_return false;
  }

  // Before a close that leaves some of the request unread: what the sandbox still sends is read and
  // dropped (up to k_max_discarded_body, until it ends or is quiet for k_linger_ms), because a
  // close with unread bytes resets the connection, and the reset can destroy the answer before
  // the sandbox has read it.
  asio::awaitable<void> linger() {
    std::array<char, 16384> chunk;
    error_code ec;
    for (uint64_t total = 0; total <= k_max_discarded_body;) {
      arm(m_client, k_linger_ms);
      size_t n = co_await m_client.async_read_some(asio::buffer(chunk), redirect(ec));
      if (ec) co_return;
      total += n;
    }
  }

  asio::awaitable<bool> bad_gateway(Exchange& x, const std::string& why) {
    log::debug("connection {} request {}: upstream {}: {}", m_c.connection, m_count, ipv4::format(m_c.dst), why);
    drop_upstream();
    x.e.status = 502;
    x.e.upstream_addr = fmt::format("{}:{}", ipv4::format(m_c.dst), m_c.dst_port);
    if (x.v.security_reason.empty()) x.v.security_reason = "upstream_unreachable_or_unverified";
    audit(x);
    co_await respond(http::status::bad_gateway, x.e.rule, "upstream_unreachable_or_unverified", true);
    co_return false;
  }

  // A head that did not parse: too large (431) or not HTTP (400), both security events; a
  // connection that simply ended says nothing.
  asio::awaitable<bool> bad_head(const error_code& ec) {
    bool too_large = ec == http::error::header_limit;
    bool parse_error = malformed(ec);
    if (!too_large && !parse_error) co_return false;
    Exchange x;
    x.e.connection = m_c.connection;
    x.e.request = ++m_count;
    x.e.src = m_c.src;
    x.e.dst = m_c.dst;
    x.e.dst_port = m_c.dst_port;
    x.e.sni = m_c.sni;
    x.e.scheme = m_c.scheme;
    x.e.status = too_large ? 431 : 400;
    x.v.security_reason = too_large ? "request_head_too_large" : "bad_request";
    x.level = Audit::none;  // no request to describe: the security event says it all
    audit(x);
    co_await respond(too_large ? http::status::request_header_fields_too_large : http::status::bad_request,
                     std::nullopt, x.v.security_reason, true);
    co_return false;
  }

  void audit(Exchange& x) {
    x.e.duration_us = time::steady_us() - x.start_us;
    x.e.allow = x.v.decision.allow;
    if (!x.v.security_reason.empty()) {
      HttpEvent s = x.e;
      s.event = "security_event";
      s.security_reason = x.v.security_reason;
      s.headers.clear();
      s.request_body.reset();
      s.response_body.reset();
      m_c.ctx.audit.write(s);
    }
    if (x.level == Audit::none) return;
    x.e.security_reason = x.v.security_reason;
    m_c.ctx.audit.write(x.e);
  }

  asio::awaitable<void> respond(http::status st, const std::optional<std::string>& rule, const std::string& reason,
                                bool close) {
    json::Writer w;
    w.begin_object();
    w.key("rule");
    rule ? w.value(*rule) : w.null();
    w.field("reason", reason);
    w.end_object();
    http::response<http::string_body> res{st, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = w.str() + "\n";
    res.keep_alive(!close);
    res.prepare_payload();
    error_code ec;
    arm(m_client, m_ms);
    co_await http::async_write(m_client, res, redirect(ec));
  }

  S& m_client;
  HttpConn& m_c;
  int64_t m_ms;
  beast::flat_buffer m_cbuf, m_ubuf;
  std::optional<S> m_up;
  bool m_up_served = false;  // m_up has answered before (here or for another connection): it may have ended since
  std::optional<int64_t> m_parkable_since;  // m_up may be parked: idle since then (time::steady_ms)
  std::string m_up_sandbox;                 // the sandbox m_up was opened or taken for
  std::map<std::string, bool> m_names;      // name → whether the destination is one of its addresses
  uint64_t m_count = 0;
};

}  // namespace

asio::awaitable<void> handle_http(tcp::socket client, ProxyContext& ctx) {
  error_code ec;
  tcp::endpoint src = client.remote_endpoint(ec), dst = client.local_endpoint(ec);
  if (ec) co_return;
  // On the connection's strand, so that a timeout's close never races the coroutine.
  auto strand = co_await asio::this_coro::executor;
  beast::tcp_stream stream(tcp::socket(strand, tcp::v4(), client.release()));
  HttpConn c(ctx);
  c.connection = ctx.next_connection();
  c.src = src.address().to_v4().to_uint();
  c.dst = dst.address().to_v4().to_uint();
  c.dst_port = dst.port();
  c.scheme = "http";
  Session<beast::tcp_stream> s(stream, c);
  co_await s.run();
}

asio::awaitable<void> serve_https(TlsStream& client, HttpConn& c) {
  Session<TlsStream> s(client, c);
  co_await s.run();
}

}  // namespace cube::egress
