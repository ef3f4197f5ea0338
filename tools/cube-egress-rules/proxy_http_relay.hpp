// cube::egress proxy_http_relay — moving HTTP messages and tunnels between the sandbox's stream
// and the upstream's, never holding a whole body: Beast's relay through a 16 KiB buffer.
//
// Contract:
// - relay_message() writes the parser's message (head as it now is, then the body as it is read,
//   none when the parser has finished with the head) to `out`; BodyTap counts the body's bytes and
//   keeps the first `max`. Each read and write must finish within `ms`. A failure says which side
//   it came from.
// - tunnel() sends what either buffer holds past the heads, then copies both ways until one side
//   ends or fails, then closes both.
#pragma once

#include <utility>  // before Boost.Asio: Boost 1.74's awaitable.hpp needs it with g++ 12

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>

namespace cube::egress {

namespace relay_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

inline auto redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

template <class Stream>
void arm(Stream& s, int64_t ms) {
  beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(ms));
}

template <class From, class To>
asio::awaitable<void> pump(From& from, To& to, int64_t ms) {
  std::array<char, 16384> chunk;
  for (error_code ec;;) {
    arm(from, ms);
    size_t n = co_await from.async_read_some(asio::buffer(chunk), redirect(ec));
    if (ec) co_return;
    arm(to, ms);
    co_await asio::async_write(to, asio::buffer(chunk.data(), n), redirect(ec));
    if (ec) co_return;
  }
}

struct Join {
  explicit Join(const asio::any_io_executor& ex) : timer(ex, std::chrono::steady_clock::time_point::max()) {}
  asio::steady_timer timer;
  bool finished = false;
};

template <class From, class To>
asio::awaitable<void> pump_then_signal(From& from, To& to, int64_t ms, std::shared_ptr<Join> join) {
  co_await pump(from, to, ms);
  beast::get_lowest_layer(from).close();
  beast::get_lowest_layer(to).close();
  join->finished = true;
  join->timer.cancel();
}

}  // namespace relay_detail

struct BodyTap {
  explicit BodyTap(size_t keep) : max(keep) {}
  size_t max = 0;
  std::string kept;
  uint64_t bytes = 0;
  void operator()(const char* p, size_t n) {
    bytes += n;
    if (kept.size() < max) kept.append(p, std::min(n, max - kept.size()));
  }
};

struct Relayed {
  boost::system::error_code ec;
  bool reading = false;  // ec came from reading `in`, not from writing `out`
};

template <bool isRequest, class In, class Out>
boost::asio::awaitable<Relayed> relay_message(In& in, boost::beast::flat_buffer& buf,
                                              boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& p,
                                              Out& out, BodyTap& tap, int64_t ms) {
  using namespace relay_detail;
  namespace http = beast::http;
  http::serializer<isRequest, http::buffer_body> sr{p.get()};
  error_code ec;
  if (p.is_done()) {
    // Nothing follows the head (no body, a response to HEAD, 204, 304): the head alone. The
    // serializer would end a chunked one with a last chunk its reader never expects after a HEAD.
    arm(out, ms);
    co_await http::async_write_header(out, sr, redirect(ec));
    co_return Relayed{ec};
  }
  std::array<char, 16384> chunk;
  do {
    auto& body = p.get().body();
    body.data = chunk.data();
    body.size = chunk.size();
    arm(in, ms);
    co_await http::async_read(in, buf, p, redirect(ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return Relayed{ec, true};
    body.size = chunk.size() - body.size;
    tap(chunk.data(), body.size);
    body.data = chunk.data();
    body.more = !p.is_done();  // the serializer ends the message when it hears nothing more comes
    arm(out, ms);
    co_await http::async_write(out, sr, redirect(ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return Relayed{ec};
  } while (!p.is_done() && !sr.is_done());
  co_return Relayed{ec};
}

template <class A, class B>
boost::asio::awaitable<void> tunnel(A& client, boost::beast::flat_buffer& cbuf, B& up, boost::beast::flat_buffer& ubuf,
                                    int64_t ms) {
  using namespace relay_detail;
  error_code ec;
  if (cbuf.size()) co_await asio::async_write(up, cbuf.data(), redirect(ec));
  if (!ec && ubuf.size()) co_await asio::async_write(client, ubuf.data(), redirect(ec));
  cbuf.consume(cbuf.size());
  ubuf.consume(ubuf.size());
  if (ec) co_return;
  auto ex = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(ex);
  asio::co_spawn(ex, pump_then_signal(up, client, ms, join), asio::detached);
  co_await pump(client, up, ms);
  beast::get_lowest_layer(client).close();
  beast::get_lowest_layer(up).close();
  if (!join->finished) co_await join->timer.async_wait(redirect(ec));
}

}  // namespace cube::egress
