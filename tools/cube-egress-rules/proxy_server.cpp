#include "proxy_server.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"
#include "proxy_http.hpp"
#include "proxy_mitm.hpp"
#include "proxy_tls.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>
#include <vector>

namespace cube::egress {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

Fd transparent_listener(uint32_t address, uint16_t port) {
  std::string where = fmt::format("{}:{}", ipv4::format(address), port);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw sys_error(errno, "cannot create the proxy's socket");
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::setsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0)
    throw sys_error(errno, fmt::format("cannot make the listener on {} transparent (IP_TRANSPARENT)", where));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(address);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    throw sys_error(errno, fmt::format("cannot bind the proxy to {}", where));
  if (::listen(fd.get(), 4096) != 0) throw sys_error(errno, fmt::format("cannot listen on {}", where));
  return fd;
}

using Handler = asio::awaitable<void> (*)(tcp::socket, ProxyContext&);

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ProxyContext& ctx, Handler handle = handle_tls) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      log::warn("accept on port {}: {}", acceptor.local_endpoint().port(), ec.message());  // EMFILE and the like: go on
      continue;
    }
    // Each connection on a strand of its own: its two relay directions never run at once.
    auto strand = asio::make_strand(acceptor.get_executor());
    asio::co_spawn(strand, handle(std::move(s), ctx), asio::detached);
  }
}

class Reloader {
 public:
  Reloader(asio::io_context& io, ProxyContext& ctx, state::Db& db) : m_timer(io), m_ctx(ctx), m_db(db), m_watcher(db) {}
  void load() {
    auto s = load_snapshot(m_db, m_ctx.options.compile, m_ctx.snapshot().get());
    for (const auto& f : s->failures) log::error("policy of sandbox {} fails to load: its traffic is denied", f);
    log::info("loaded {} policies, {} sandbox addresses", s->policies.size(), s->sandbox_by_address.size());
    m_ctx.set_snapshot(std::move(s));
  }
  void schedule() {
    m_timer.expires_after(std::chrono::milliseconds(m_ctx.options.reload_ms));
    m_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      try {
        if (m_watcher.changed()) load();
      } catch (const Error& e) {
        log::error("reloading the policies: {} (the last good ones stay)", e.message());
      }
      schedule();
    });
  }

 private:
  asio::steady_timer m_timer;
  ProxyContext& m_ctx;
  state::Db& m_db;
  Watcher m_watcher;
};

}  // namespace

void serve(const ServeOptions& options, const std::function<void()>& ready) {
  AuditLog audit(options.audit_log);
  ProxyContext ctx(options, audit);
  asio::io_context io(static_cast<int>(options.threads));
  tcp::acceptor acceptor(io, tcp::v4(), transparent_listener(options.listen_address, options.tls_port).release());
  tcp::acceptor http_acceptor(io, tcp::v4(), transparent_listener(options.listen_address, options.http_port).release());
  auto interception = load_interception(options);
  ctx.interception = interception.get();
  state::Db db = state::Db::open(options.state_path, state::Access::read);
  Reloader reloader(io, ctx, db);
  reloader.load();
  reloader.schedule();
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](auto ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      try {
        audit.reopen();
      } catch (const Error& e) {
        log::error("{}", e.message());
      }
      signals.async_wait(on_signal);
      return;
    }
    log::info("stopping on signal {}", sig);
    io.stop();
  };
  signals.async_wait(on_signal);
  asio::co_spawn(io, accept_loop(acceptor, ctx), asio::detached);
  asio::co_spawn(io, accept_loop(http_acceptor, ctx, handle_http), asio::detached);
  ready();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
}

}  // namespace cube::egress
