#include "proxy_server.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "learned_names.hpp"
#include "log.hpp"
#include "proxy_confine.hpp"
#include "proxy_health.hpp"
#include "proxy_http.hpp"
#include "proxy_mitm.hpp"
#include "proxy_notify.hpp"
#include "proxy_pool.hpp"
#include "proxy_tls.hpp"
#include "timeutil.hpp"

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
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
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

// Over its sandbox's cap, a connection is closed before any byte is read: one security event a
// second per source tells why, whatever the rate of the flood.
void refuse_over_cap(tcp::socket& s, ProxyContext& ctx) {
  boost::system::error_code ec;
  tcp::endpoint src = s.remote_endpoint(ec), dst = s.local_endpoint(ec);
  if (!ec && ctx.limits.should_report(src.address().to_v4().to_uint(), time::steady_ms())) {
    ConnEvent e;
    e.event = "security_event";
    e.connection = ctx.next_connection();
    e.src = src.address().to_v4().to_uint();
    e.dst = dst.address().to_v4().to_uint();
    e.dst_port = dst.port();
    if (auto snapshot = ctx.snapshot()) e.sandbox = find_source(*snapshot, e.src).sandbox;
    e.security_reason = "too_many_connections";
    ctx.audit.write(e);
  }
  s.close(ec);
}

// One connection, counted against its source's cap until its handler is done.
using Handler = asio::awaitable<void> (*)(tcp::socket, ProxyContext&);

asio::awaitable<void> counted(tcp::socket s, ProxyContext& ctx, ConnLimits::Slot, Handler handle) {
  co_await handle(std::move(s), ctx);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ProxyContext& ctx, Handler handle = handle_tls) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and the like: the connection stays in the backlog; retrying at once would spin.
      log::warn("accept on port {}: {}", acceptor.local_endpoint().port(), ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Relayed and proxied bytes go out as they come: Nagle's wait for an ACK (delayed up to 40 ms
    // by the peer) would add to every request whose last segment is small.
    s.set_option(tcp::no_delay(true), ec);
    tcp::endpoint src = s.remote_endpoint(ec);
    if (ec) continue;
    auto slot = ctx.limits.admit(src.address().to_v4().to_uint());
    if (!slot) {
      refuse_over_cap(s, ctx);
      continue;
    }
    // Each connection on a strand of its own: its two relay directions never run at once.
    auto strand = asio::make_strand(acceptor.get_executor());
    asio::co_spawn(strand, counted(std::move(s), ctx, std::move(*slot), handle), asio::detached);
  }
}

// Kept upstream connections idle too long are closed even when no connection asks for them.
asio::awaitable<void> sweep_pools(UpstreamPools& pools) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    pools.sweep(time::steady_ms());
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

// SIGTERM (or SIGINT): stop accepting, let open connections finish up to the drain timeout, then
// stop the loop; a second signal stops it at once.
class Drain {
 public:
  Drain(asio::io_context& io, ProxyContext& ctx, Notifier& notifier)
      : m_io(io), m_ctx(ctx), m_notifier(notifier), m_timer(io) {}
  void start(std::vector<tcp::acceptor*> listeners) {
    if (draining.exchange(true)) {
      log::info("stopping now, {} connections cut", m_ctx.limits.open());
      m_io.stop();
      return;
    }
    m_notifier.stopping();
    boost::system::error_code ec;
    for (auto* l : listeners) l->close(ec);
    m_deadline_ms = time::steady_ms() + m_ctx.options.drain_timeout_ms;
    log::info("draining {} open connections, for {} ms at most", m_ctx.limits.open(), m_ctx.options.drain_timeout_ms);
    poll();
  }
  std::atomic<bool> draining{false};

 private:
  void poll() {
    uint64_t open = m_ctx.limits.open();
    if (open == 0 || time::steady_ms() >= m_deadline_ms) {
      if (open > 0) log::warn("drain timeout: {} connections cut", open);
      m_io.stop();
      return;
    }
    m_timer.expires_after(std::chrono::milliseconds(20));
    m_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) poll();
    });
  }
  asio::io_context& m_io;
  ProxyContext& m_ctx;
  Notifier& m_notifier;
  asio::steady_timer m_timer;
  int64_t m_deadline_ms = 0;
};

tcp::acceptor health_listener(asio::io_context& io, const std::pair<uint32_t, uint16_t>& at) {
  std::string where = fmt::format("{}:{}", ipv4::format(at.first), at.second);
  try {
    return tcp::acceptor(io, tcp::endpoint(asio::ip::address_v4(at.first), at.second));
  } catch (const boost::system::system_error& e) {
    throw sys_error(e.code().value(), fmt::format("cannot listen for --health on {}", where));
  }
}

// Each connection costs the proxy two descriptors (three while it peeks), and each kept upstream
// connection one (512 at most, proxy_pool.hpp): the soft limit's usual 1024 would be reached by a
// few hundred sandboxes' connections.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// Opened before the process confines itself, which may keep it from making the file. Without it,
// a name is checked against the node's resolver alone, which can only refuse more.
std::unique_ptr<NamesReader> open_names(const std::string& state_path) {
  auto names = std::make_unique<NamesReader>(names_path(state_path));
  try {
    names->open(time::steady_ms());
  } catch (const Error& e) {
    log::warn("{}; names are checked against the node's resolver alone until it opens", e.message());
  }
  return names;
}

}  // namespace

void serve(const ServeOptions& options, const std::function<void()>& ready) {
  raise_fd_limit();
  AuditLog audit(options.audit_log, options.audit_max_size);
  ProxyContext ctx(options, audit);
  asio::io_context io(static_cast<int>(options.threads));
  tcp::acceptor acceptor(io, tcp::v4(), transparent_listener(options.listen_address, options.tls_port).release());
  tcp::acceptor http_acceptor(io, tcp::v4(), transparent_listener(options.listen_address, options.http_port).release());
  auto interception = load_interception(options);
  ctx.interception = interception.get();
  UpstreamPools pools;  // after io: its sockets are closed while the loop still exists
  ctx.pools = &pools;
  std::optional<tcp::acceptor> health;
  if (options.health) health.emplace(health_listener(io, *options.health));
  state::Db db = state::Db::open(options.state_path, state::Access::read);
  std::unique_ptr<NamesReader> names = open_names(options.state_path);
  ctx.names = names.get();
  Reloader reloader(io, ctx, db);
  reloader.load();
  reloader.schedule();
  Notifier notifier(io);
  Drain drain(io, ctx, notifier);
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](auto ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      try {
        audit.reopen();
        log::info("reopened the audit log {}", audit.path());
      } catch (const Error& e) {
        log::error("{}", e.message());
      }
    } else {
      drain.start({&acceptor, &http_acceptor});
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  asio::co_spawn(io, accept_loop(acceptor, ctx), asio::detached);
  asio::co_spawn(io, accept_loop(http_acceptor, ctx, handle_http), asio::detached);
  if (health) asio::co_spawn(io, serve_health(*health, ctx, drain.draining), asio::detached);
  asio::co_spawn(io, sweep_pools(pools), asio::detached);

  // Everything that needs a privilege is done: the listeners are bound, the files open. Before the
  // loop's threads start, since capabilities and seccomp filters are per thread (inherited).
  drop_capabilities();
  if (options.seccomp) proxy_allowlist().load();
  notifier.ready(fmt::format("serving {} policies", ctx.snapshot()->policies.size()));
  notifier.start_watchdog();
  ready();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
}

}  // namespace cube::egress
