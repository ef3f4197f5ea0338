#include "dns_relay.hpp"

#include "dns_learner.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "ipv4.hpp"
#include "learned_names.hpp"
#include "log.hpp"
#include "relay_policy.hpp"
#include "relay_socket.hpp"
#include "timeutil.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <unordered_map>
#include <vector>

namespace cube::egress {
namespace {

// One UDP query on its way: the relay's socket to the resolver and where the answer goes.
struct UdpQuery {
  Fd fd;
  sockaddr_in client{}, resolver{};
  uint16_t id = 0;
  int64_t deadline_ms = 0;
};

// One TCP connection spliced through: guest ↔ relay ↔ resolver, with what waits in each direction
// and the resolver's bytes not yet cut into whole messages (2-byte length prefix, RFC 1035 §4.2.2).
struct TcpConn {
  Fd client, upstream;
  uint32_t sandbox = 0, resolver = 0;
  bool connected = false, client_eof = false, upstream_eof = false, shut = false, upstream_watched = true;
  std::string to_upstream, to_client, answers;
  int64_t last_ms = 0;
};

// Blocks SIGTERM and SIGINT for the loop and delivers them through a signalfd; puts the mask back.
class Signals {
 public:
  Signals() {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGTERM);
    sigaddset(&m_set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &m_set, &m_old) != 0) throw sys_error(errno, "blocking SIGTERM");
    m_fd.reset(::signalfd(-1, &m_set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!m_fd) throw sys_error(errno, "creating a signalfd");
  }
  ~Signals() { sigprocmask(SIG_SETMASK, &m_old, nullptr); }
  int fd() const { return m_fd.get(); }
  // Takes the pending signal, which would otherwise be delivered once the mask is put back.
  void take() {
    signalfd_siginfo info{};
    [[maybe_unused]] ssize_t n = ::read(m_fd.get(), &info, sizeof info);
  }

 private:
  sigset_t m_set, m_old;
  Fd m_fd;
};

}  // namespace

struct DnsRelay::Impl {
  RelayOptions o;
  PolicyWatcher watcher;
  Learner learner;
  Fd udp, tcp, epoll;
  NamesWriter names;                                        // what the proxy's name check reads (learned_names.hpp)
  std::unordered_map<int, UdpQuery> queries;                // by the relay's socket
  std::unordered_map<int, std::shared_ptr<TcpConn>> conns;  // by both of its sockets
  size_t conn_count = 0;
  RelayStats stats;
  std::array<uint8_t, 65536> buf{};

  explicit Impl(RelayOptions opt)
      : o(std::move(opt)),
        watcher(o.state_path, o.compile, k_reload_ms),
        udp(udp_listener(socket_address(o.address, o.port))),
        tcp(tcp_listener(socket_address(o.address, o.port))),
        epoll(::epoll_create1(EPOLL_CLOEXEC)),
        names(names_path(o.state_path)) {
    if (!epoll) throw sys_error(errno, "creating an epoll instance");
    watch(udp.get(), EPOLLIN, EPOLL_CTL_ADD);
    watch(tcp.get(), EPOLLIN, EPOLL_CTL_ADD);
  }

  void watch(int fd, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll.get(), op, fd, &ev) != 0) throw sys_error(errno, "watching a socket");
  }

  const SandboxPolicy& policy_of(uint32_t sandbox) { return watcher.policies().find(sandbox); }

  void learn(uint32_t sandbox, uint32_t resolver, std::span<const uint8_t> response) {
    const SandboxPolicy& sp = policy_of(sandbox);
    if (!sp.policy->dns_learning) return;
    auto answer = answer_of(response);
    if (!answer) return;
    // Committed before the answer goes on, as the set's elements are: a guest that connects the
    // moment it has its answer must find them.
    if (!sp.sandbox.empty() && names_kept(*sp.policy, resolver, answer->name)) {
      int64_t now = time::now_ms();
      names.add(sp.sandbox, answer->name, resolver, answer->addresses, now);
      names.flush(now, time::steady_ms());
    }
    try {
      stats.learned += learner.learn(sandbox, *sp.policy, *answer);
    } catch (const Error& e) {
      log::warn("sandbox {} ({}): {}", sp.sandbox, ipv4::format(sandbox), e.message());
    }
  }

  bool allowed(uint32_t sandbox, const sockaddr_in& resolver) {
    if (resolver_allowed(*policy_of(sandbox).policy, address_of(resolver))) return true;
    ++stats.refused;
    log::info("query from {} to resolver {} not forwarded: not allowed for sandbox {}", ipv4::format(sandbox),
              text_of(resolver), policy_of(sandbox).sandbox);
    return false;
  }

  // --- UDP ---------------------------------------------------------------------------------------

  void udp_readable(int64_t now) {
    for (int i = 0; i < 64; ++i) {
      auto d = receive_redirected(udp.get(), buf);
      if (!d) return;
      ++stats.queries;
      auto header = dns::parse_header(std::span(buf.data(), d->size));
      if (!header || header->response() || !allowed(address_of(d->source), d->original)) continue;
      if (queries.size() >= k_max_pending) {
        ++stats.refused;
        continue;
      }
      Fd fd = connected_udp(d->original);
      if (!fd || ::send(fd.get(), buf.data(), d->size, 0) < 0) {
        log::debug("forwarding a query to {}: {}", text_of(d->original), errno_text(errno));
        continue;
      }
      ++stats.forwarded;
      int key = fd.get();
      watch(key, EPOLLIN, EPOLL_CTL_ADD);
      queries.emplace(key, UdpQuery{std::move(fd), d->source, d->original, header->id, now + k_query_timeout_ms});
    }
  }

  void udp_answer(UdpQuery& q) {
    ssize_t n = ::recv(q.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    auto header = n > 0 ? dns::parse_header(std::span(buf.data(), static_cast<size_t>(n))) : std::nullopt;
    if (n < 0 && errno == EAGAIN) return;
    // Anything but the answer to this query's ID ends the wait too: a resolver sends one answer.
    if (header && header->id == q.id) {
      std::span<const uint8_t> answer(buf.data(), static_cast<size_t>(n));
      learn(address_of(q.client), address_of(q.resolver), answer);
      if (!send_from(q.resolver, q.client, answer))
        log::debug("answering {} as {}: {}", text_of(q.client), text_of(q.resolver), errno_text(errno));
    }
    queries.erase(q.fd.get());
  }

  // --- TCP ---------------------------------------------------------------------------------------

  void tcp_acceptable(int64_t now) {
    for (int i = 0; i < 64; ++i) {
      sockaddr_in peer{}, local{};
      socklen_t len = sizeof peer;
      Fd client(::accept4(tcp.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client) return;
      ++stats.queries;
      len = sizeof local;
      // A redirected connection's local address is the one the guest asked for.
      if (::getsockname(client.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) continue;
      if (!allowed(address_of(peer), local)) continue;
      if (conn_count >= k_max_connections) {
        ++stats.refused;
        continue;
      }
      auto c = std::make_shared<TcpConn>();
      c->upstream = connecting_tcp(local);
      if (!c->upstream) continue;
      ++stats.forwarded;
      c->client = std::move(client);
      c->sandbox = address_of(peer);
      c->resolver = address_of(local);
      c->last_ms = now;
      conns[c->client.get()] = c;
      conns[c->upstream.get()] = c;
      ++conn_count;
      watch(c->client.get(), 0, EPOLL_CTL_ADD);
      watch(c->upstream.get(), 0, EPOLL_CTL_ADD);
      rearm(*c);
    }
  }

  void rearm(TcpConn& c) {
    uint32_t client_ev = 0, upstream_ev = 0;
    if (!c.client_eof && c.to_upstream.size() < k_max_buffer) client_ev |= EPOLLIN;
    if (!c.to_client.empty()) client_ev |= EPOLLOUT;
    if (!c.connected) {
      upstream_ev = EPOLLOUT;
    } else {
      if (!c.upstream_eof && c.to_client.size() < k_max_buffer) upstream_ev |= EPOLLIN;
      if (!c.to_upstream.empty()) upstream_ev |= EPOLLOUT;
    }
    watch(c.client.get(), client_ev, EPOLL_CTL_MOD);
    // A resolver that has closed keeps reporting EPOLLHUP whatever the mask: stop watching it while
    // its last bytes wait for the guest.
    if (!c.upstream_eof) {
      watch(c.upstream.get(), upstream_ev, EPOLL_CTL_MOD);
    } else if (c.upstream_watched) {
      ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, c.upstream.get(), nullptr);
      c.upstream_watched = false;
    }
  }

  void close_conn(const std::shared_ptr<TcpConn>& c) {
    conns.erase(c->client.get());
    conns.erase(c->upstream.get());
    --conn_count;
  }

  // Reads what is there into `into`; false at end of stream or on an error.
  bool read_into(int fd, std::string& into) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) into.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }

  bool write_from(int fd, std::string& from) {
    ssize_t n = ::send(fd, from.data(), from.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) from.erase(0, static_cast<size_t>(n));
    return n >= 0 || errno == EAGAIN || errno == EINTR;
  }

  // Cuts whole answers off the resolver's stream and learns from each.
  void learn_stream(TcpConn& c) {
    while (c.answers.size() >= 2) {
      size_t len = static_cast<uint8_t>(c.answers[0]) << 8 | static_cast<uint8_t>(c.answers[1]);
      if (c.answers.size() < 2 + len) return;
      learn(c.sandbox, c.resolver, std::span(reinterpret_cast<const uint8_t*>(c.answers.data()) + 2, len));
      c.answers.erase(0, 2 + len);
    }
  }

  // False when the connection is over.
  bool tcp_event(TcpConn& c, int fd, uint32_t events) {
    bool from_client = fd == c.client.get();
    if (events & EPOLLERR) return false;
    if (!from_client && !c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
      c.connected = true;
    }
    if (events & (EPOLLIN | EPOLLHUP)) {
      if (from_client) {
        c.client_eof = c.client_eof || !read_into(fd, c.to_upstream);
      } else {
        size_t before = c.to_client.size();
        c.upstream_eof = c.upstream_eof || !read_into(fd, c.to_client);
        c.answers.append(c.to_client, before, std::string::npos);
        learn_stream(c);
        if (c.answers.size() > k_max_buffer) return false;
      }
    }
    if (c.connected && !c.to_upstream.empty() && !write_from(c.upstream.get(), c.to_upstream)) return false;
    if (!c.to_client.empty() && !write_from(c.client.get(), c.to_client)) return false;
    if (c.client_eof && c.connected && c.to_upstream.empty() && !c.shut) {
      ::shutdown(c.upstream.get(), SHUT_WR);
      c.shut = true;
    }
    if (c.upstream_eof && c.to_client.empty()) return false;
    if (c.client_eof && (events & EPOLLHUP) && from_client) return false;
    return true;
  }

  // --- the loop ----------------------------------------------------------------------------------

  void expire(int64_t now) {
    for (auto it = queries.begin(); it != queries.end();)
      it = it->second.deadline_ms <= now ? queries.erase(it) : std::next(it);
    std::vector<std::shared_ptr<TcpConn>> idle;
    for (const auto& [fd, c] : conns)
      if (fd == c->client.get() && c->last_ms + k_idle_timeout_ms <= now) idle.push_back(c);
    for (const auto& c : idle) close_conn(c);
  }

  void dispatch(int fd, uint32_t events, int64_t now) {
    if (fd == udp.get()) return udp_readable(now);
    if (fd == tcp.get()) return tcp_acceptable(now);
    if (auto q = queries.find(fd); q != queries.end()) return udp_answer(q->second);
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    std::shared_ptr<TcpConn> c = it->second;
    c->last_ms = now;
    if (!tcp_event(*c, fd, events)) return close_conn(c);
    rearm(*c);
  }

  RelayStats run(const std::function<void()>& ready) {
    Signals signals;
    watch(signals.fd(), EPOLLIN, EPOLL_CTL_ADD);
    ready();
    std::array<epoll_event, 64> events;
    for (;;) {
      int n = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), k_reload_ms);
      if (n < 0 && errno != EINTR) throw sys_error(errno, "waiting for DNS traffic");
      int64_t now = time::steady_ms();  // deadlines and the policy poll: a clock step must not move them
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == signals.fd()) {
          signals.take();
          return stats;
        }
        // One socket's trouble (an epoll_ctl refused for want of memory) must not end the relay.
        try {
          dispatch(events[i].data.fd, events[i].events, now);
        } catch (const Error& e) {
          log::warn("{}", e.message());
        }
      }
      expire(now);
      names.flush(time::now_ms(), now);  // the sweep of expired rows, when due
      try {
        watcher.poll(now);
      } catch (const Error& e) {
        log::warn("re-reading the policies: {}", e.message());
      }
    }
  }
};

DnsRelay::DnsRelay(RelayOptions options) : m(std::make_unique<Impl>(std::move(options))) {}
DnsRelay::~DnsRelay() = default;

RelayStats DnsRelay::run(const std::function<void()>& ready) { return m->run(ready); }

}  // namespace cube::egress
