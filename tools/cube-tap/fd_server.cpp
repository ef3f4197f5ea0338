#include "fd_server.hpp"

#include "error.hpp"
#include "fd_request.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

namespace cube::tap {
namespace {

constexpr int64_t k_sweep_ms = 5000;  // at the latest
constexpr int64_t k_watch_ms = 50;    // how often the state file is checked for changes
constexpr int k_backlog = 256;

struct Client {
  Fd fd;
  std::string buffer;
  int64_t deadline_ms = 0;
};

// The socket systemd passed (LISTEN_FDS=1 for this pid), else an invalid Fd.
Fd inherited_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* n = std::getenv("LISTEN_FDS");
  if (!pid || !n || std::atoi(pid) != ::getpid() || std::atoi(n) != 1) return {};
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return Fd(3);
}

Fd listen_on(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw Error(Exit::usage, fmt::format("invalid --socket '{}'", path.substr(0, 80)),
                fmt::format("expected a path shorter than {} bytes", sizeof addr.sun_path));
  fs::make_dirs(fs::dirname(path), 0755);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw Error(Exit::conflict, fmt::format("{} exists and is not a socket", path));
    ::unlink(path.c_str());  // stale: a live server would hold the path (systemd's socket unit does)
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw sys_error(errno, "creating the fd socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  mode_t old = ::umask(0117);  // 0660, with no window in which it is wider
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) throw sys_error(errno, fmt::format("binding {}", path));
  if (::listen(fd.get(), k_backlog) != 0) throw sys_error(errno, fmt::format("listening on {}", path));
  return fd;
}

Fd block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  Fd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) throw sys_error(errno, "creating a signalfd");
  return fd;
}

// One message: the reply, and the fd when there is one. Never blocks: the reply is far smaller
// than a socket buffer, and a client that left is simply gone.
void send_reply(int sock, const std::string& reply, int fd) {
  iovec iov{const_cast<char*>(reply.data()), reply.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) log::debug("reply not sent: {}", errno_text(errno));
}

}  // namespace

struct FdServer::Impl {
  FdProvider& provider;
  const Settings& settings;
  Fd epoll, listener, signals;
  std::map<int, Client> clients;
  ServeStats stats;

  bool allowed(int sock, std::string& who) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    who = fmt::format("uid {} gid {} pid {}", cred.uid, cred.gid, cred.pid);
    auto in = [](const std::vector<uint32_t>& list, uint32_t v) {
      return std::find(list.begin(), list.end(), v) != list.end();
    };
    return in(settings.allowed_uids, cred.uid) || in(settings.allowed_gids, cred.gid);
  }

  void accept_all() {
    for (;;) {
      Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!fd) return;  // EAGAIN, or a client that gave up
      std::string who;
      if (!allowed(fd.get(), who)) {
        ++stats.refused;
        log::warn("refused a client: {} is not in [tap] allowed_uids / allowed_gids", who);
        send_reply(fd.get(), render_error(k_lookup_failed, fmt::format("permission denied: {}", who)), -1);
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd.get();
      if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) continue;
      int key = fd.get();
      clients[key] = Client{std::move(fd), {}, time::steady_ms() + settings.request_timeout_ms};
      readable(key);  // a client writes right after connecting: its request is usually here already
    }
  }

  std::string answer(std::string_view text, int& fd_out) {
    auto req = parse_request(text);
    if (!req) return render_error(k_parse_failed, "Parse json failed");
    if (!ids::is_path_safe(req->sandbox_id)) return render_error(k_lookup_failed, "invalid sandbox ID");
    try {
      Handout h = provider.get(req->sandbox_id, req->name);
      fd_out = h.fd;
      log::debug("fd for sandbox {}: {} path", req->sandbox_id, tier_name(h.tier));
      return render_success(h.ifindex);
    } catch (const Error& e) {
      return render_error(k_lookup_failed, e.message());
    }
  }

  void finish(int key, const std::string& reply, int fd) {
    send_reply(key, reply, fd);
    ++stats.served;
    clients.erase(key);  // closes; epoll forgets a closed fd by itself
  }

  void readable(int key) {
    Client& c = clients[key];
    char buf[k_max_request + 1];
    for (;;) {
      ssize_t n = ::recv(key, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {  // EOF or error: answer what came, if anything did
        if (c.buffer.empty()) return void(clients.erase(key));
        break;
      }
      c.buffer.append(buf, static_cast<size_t>(n));
      if (c.buffer.size() > k_max_request)
        return finish(
            key,
            render_error(k_parse_failed, fmt::format("Parse json failed: request larger than {} bytes", k_max_request)),
            -1);
      if (request_completeness(c.buffer) == Completeness::complete) break;
    }
    if (request_completeness(c.buffer) == Completeness::partial) {
      char probe;
      if (::recv(key, &probe, 1, MSG_PEEK) != 0) return;  // wait for the rest, unless it ended
    }
    int fd = -1;
    std::string reply = answer(c.buffer, fd);
    finish(key, reply, fd);
  }

  void expire() {
    int64_t now = time::steady_ms();
    for (auto it = clients.begin(); it != clients.end();) {
      if (it->second.deadline_ms > now) {
        ++it;
        continue;
      }
      log::debug("client timed out after {} ms", settings.request_timeout_ms);
      send_reply(it->first, render_error(k_parse_failed, "Parse json failed: request timed out"), -1);
      it = clients.erase(it);
    }
  }

  int wait_ms(int64_t next_sweep) const {
    int64_t next = next_sweep;
    for (const auto& [k, c] : clients) next = std::min(next, c.deadline_ms);
    return static_cast<int>(std::max<int64_t>(0, next - time::steady_ms()));
  }
};

FdServer::FdServer(FdProvider& provider, const Settings& settings)
    : m(new Impl{provider, settings, {}, {}, {}, {}, {}}) {
  m->signals = block_signals();
  m->listener = inherited_socket();
  if (!m->listener) m->listener = listen_on(settings.socket);
  m->epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!m->epoll) throw sys_error(errno, "creating an epoll instance");
  for (int fd : {m->listener.get(), m->signals.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(m->epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw sys_error(errno, "watching the fd socket");
  }
}

FdServer::~FdServer() = default;

ServeStats FdServer::run(const std::function<void()>& ready) {
  if (ready) ready();
  int64_t next_sweep = time::steady_ms() + k_sweep_ms;
  int64_t next_watch = time::steady_ms() + k_watch_ms;
  m->provider.state_changed();  // the baseline
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(m->epoll.get(), events, 64, m->wait_ms(std::min(next_sweep, next_watch)));
    if (n < 0 && errno != EINTR) throw sys_error(errno, "waiting for clients");
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == m->signals.get()) return m->stats;
      if (fd == m->listener.get())
        m->accept_all();
      else if (m->clients.count(fd))
        m->readable(fd);
    }
    m->expire();
    if (int64_t now = time::steady_ms(); now >= next_watch) {
      next_watch = now + k_watch_ms;
      if (m->provider.state_changed()) next_sweep = now;
    }
    if (time::steady_ms() >= next_sweep) {
      m->provider.sweep();
      next_sweep = time::steady_ms() + k_sweep_ms;
    }
  }
}

}  // namespace cube::tap
