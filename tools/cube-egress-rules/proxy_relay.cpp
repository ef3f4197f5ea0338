#include "proxy_relay.hpp"

#include "fd.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t k_chunk = 1 << 16;  // a pipe's default capacity
constexpr unsigned k_flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

struct Pipe {
  Fd read, write;
};

bool make_pipe(Pipe& p) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  p.read.reset(fds[0]);
  p.write.reset(fds[1]);
  return true;
}

// Drains `pending` bytes from the pipe into `to`, waiting for it to take them. False on failure.
asio::awaitable<bool> drain(Pipe& p, size_t pending, tcp::socket& to, uint64_t& moved) {
  while (pending > 0) {
    ssize_t n = ::splice(p.read.get(), nullptr, to.native_handle(), nullptr, pending, k_flags);
    if (n > 0) {
      pending -= static_cast<size_t>(n);
      moved += static_cast<uint64_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      co_await to.async_wait(tcp::socket::wait_write, asio::use_awaitable);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      co_return false;
    }
  }
  co_return true;
}

}  // namespace

asio::awaitable<bool> relay_one_way(tcp::socket& from, tcp::socket& to, uint64_t& moved) {
  Pipe p;
  if (!make_pipe(p)) co_return false;
  for (;;) {
    ssize_t n = ::splice(from.native_handle(), nullptr, p.write.get(), nullptr, k_chunk, k_flags);
    if (n > 0) {
      if (!co_await drain(p, static_cast<size_t>(n), to, moved)) co_return false;
    } else if (n == 0) {
      ::shutdown(to.native_handle(), SHUT_WR);
      co_return true;
    } else if (errno == EAGAIN) {
      co_await from.async_wait(tcp::socket::wait_read, asio::use_awaitable);
    } else if (errno != EINTR) {
      co_return false;
    }
  }
}

}  // namespace cube::egress
