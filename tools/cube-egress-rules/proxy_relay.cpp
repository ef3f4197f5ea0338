#include "proxy_relay.hpp"

#include "fd.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <atomic>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t k_chunk = 1 << 16;  // a pipe's default capacity
constexpr unsigned k_flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

// A long transfer moves through a larger pipe: a sixteenth of the splice calls and wake-ups. The
// proxy stays uid 0 without CAP_SYS_RESOURCE, so every pipe of root's counts against
// fs.pipe-user-pages-soft (64 MiB by default), and past it the kernel gives new pipes two pages:
// so only a few pipes grow, a quarter of that limit at most, and only once a connection has shown
// it is a long one.
constexpr size_t k_large_pipe = 1 << 20;
constexpr uint64_t k_grow_after = 1 << 20;  // bytes moved one way before its pipe grows
constexpr int k_max_large_pipes = 16;       // 16 MiB: a quarter of the default soft limit
std::atomic<int> g_large_pipes{0};

struct Pipe {
  Fd read, write;
  size_t capacity = k_chunk;
  bool large = false;
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    if (large) g_large_pipes.fetch_sub(1, std::memory_order_relaxed);
  }
  // Grows the pipe when the budget allows; keeps the default capacity when the kernel refuses.
  void grow() {
    if (large) return;
    int size = 0;
    if (g_large_pipes.fetch_add(1, std::memory_order_relaxed) < k_max_large_pipes)
      size = ::fcntl(write.get(), F_SETPIPE_SZ, static_cast<int>(k_large_pipe));
    if (size <= 0) {  // over the budget, or refused by the kernel
      g_large_pipes.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    large = true;
    capacity = static_cast<size_t>(size);
  }
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
    ssize_t n = ::splice(from.native_handle(), nullptr, p.write.get(), nullptr, p.capacity, k_flags);
    if (n > 0) {
      if (!co_await drain(p, static_cast<size_t>(n), to, moved)) co_return false;
      if (moved >= k_grow_after && !p.large) p.grow();
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
