#include "cube-egress-rules/proxy_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <vector>

using namespace cube::egress;
namespace asio = boost::asio;
using asio::ip::tcp;
using Stream = boost::beast::tcp_stream;

namespace {

// Real loopback connections: the pool's end is a Stream, the "upstream" end a plain socket the test
// can write to or close.
class PoolTest : public ::testing::Test {
 protected:
  PoolTest() : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {}

  Stream connect() {
    Stream s(io);
    s.socket().connect(acceptor.local_endpoint());
    upstreams.push_back(acceptor.accept());
    return s;
  }
  static uint16_t port(Stream& s) { return s.socket().local_endpoint().port(); }

  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<tcp::socket> upstreams;
  UpstreamPool<Stream> pool;
};

}  // namespace

TEST_F(PoolTest, HandsBackTheLatestOfTheSameKeyOnly) {
  Stream a = connect(), b = connect();
  uint16_t pa = port(a), pb = port(b);
  pool.park("sb1", "sb1>d:443/x", std::move(a), 1000);
  pool.park("sb1", "sb1>d:443/x", std::move(b), 1000);
  EXPECT_FALSE(pool.take("sb2>d:443/x", 1001));
  EXPECT_FALSE(pool.take("sb1>d:443/y", 1001));
  auto first = pool.take("sb1>d:443/x", 1001);
  ASSERT_TRUE(first);
  EXPECT_EQ(port(*first), pb);
  auto second = pool.take("sb1>d:443/x", 1001);
  ASSERT_TRUE(second);
  EXPECT_EQ(port(*second), pa);
  EXPECT_FALSE(pool.take("sb1>d:443/x", 1001));
  EXPECT_EQ(pool.parked(), 0u);
}

TEST_F(PoolTest, NeverHandsBackOneTheUpstreamClosedOrSpokeOn) {
  Stream closed = connect();
  upstreams.back().close();
  Stream spoke = connect();
  asio::write(upstreams.back(), asio::buffer("HTTP/1.1 200 OK\r\n\r\n", 19));
  Stream good = connect();
  uint16_t pg = port(good);
  pool.park("sb", "k", std::move(good), 0);
  pool.park("sb", "k", std::move(closed), 0);
  pool.park("sb", "k", std::move(spoke), 0);
  auto got = pool.take("k", 1);
  ASSERT_TRUE(got);
  EXPECT_EQ(port(*got), pg);
  EXPECT_EQ(pool.parked(), 0u);  // the two it passed over are closed, not kept
}

TEST_F(PoolTest, ClosesWhatIsIdleTooLongAndTheOldestPastTheCap) {
  pool.park("sb1", "old", connect(), 0);
  pool.park("sb1", "new", connect(), 5000);
  EXPECT_FALSE(pool.take("old", UpstreamPool<Stream>::k_idle_ms));
  pool.sweep(5000 + UpstreamPool<Stream>::k_idle_ms);
  EXPECT_EQ(pool.parked(), 0u);

  for (size_t i = 0; i <= UpstreamPool<Stream>::k_max_parked; ++i)  // one sandbox each
    pool.park("sb" + std::to_string(i), "k" + std::to_string(i), connect(), 0);
  EXPECT_EQ(pool.parked(), UpstreamPool<Stream>::k_max_parked);
  EXPECT_FALSE(pool.take("k0", 1));
  EXPECT_TRUE(pool.take("k1", 1));
  // The pool's closed ends read as ended on the upstream's side: nothing is left open.
  char byte;
  boost::system::error_code ec;
  upstreams[2].read_some(asio::buffer(&byte, 1), ec);  // "k0"
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(PoolTest, ASandboxPastItsShareLosesItsOwnOldestNotAnothers) {
  using Pool = UpstreamPool<Stream>;
  pool.park("quiet", "quiet>d:443/x", connect(), 0);
  for (size_t i = 0; i < Pool::k_max_parked; ++i) pool.park("busy", "busy>d:443/" + std::to_string(i), connect(), 0);
  EXPECT_EQ(pool.parked(), Pool::k_max_per_sandbox + 1);
  EXPECT_TRUE(pool.take("quiet>d:443/x", 1));
  EXPECT_FALSE(pool.take("busy>d:443/0", 1));  // its oldest went first
  EXPECT_TRUE(pool.take("busy>d:443/" + std::to_string(Pool::k_max_parked - 1), 1));
}
