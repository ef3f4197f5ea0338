#include "forwarder.hpp"

#include "stamp_clock.hpp"

#include "child.hpp"
#include "error.hpp"
#include "framer.hpp"
#include "fs.hpp"
#include "log.hpp"
#include "timeutil.hpp"
#include "write_behind.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace cube::logs {
namespace {

constexpr size_t k_read_size = 256 * 1024;
// A stop drains at most this much per input, so a writer that never pauses cannot keep us alive.
constexpr uint64_t k_drain_limit = 64 * 1024 * 1024;

enum class Kind { out, err, mux };

struct Input {
  Fd fd;
  Kind kind;
  bool eof = false;
};

// Blocks the signals the forwarder handles and delivers them through a signalfd; the old mask comes
// back on destruction (and is what a command starts with).
class Signals {
 public:
  Signals() {
    sigemptyset(&m_set);
    for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGCHLD}) sigaddset(&m_set, s);
    if (::sigprocmask(SIG_BLOCK, &m_set, &m_old) != 0) throw sys_error(errno, "cannot block signals");
    m_fd.reset(::signalfd(-1, &m_set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!m_fd) throw sys_error(errno, "cannot create a signalfd");
  }
  ~Signals() { ::sigprocmask(SIG_SETMASK, &m_old, nullptr); }
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;
  int fd() const { return m_fd.get(); }
  const sigset_t& old_mask() const { return m_old; }
  // The next pending signal, or 0.
  int next() {
    signalfd_siginfo info{};
    return ::read(m_fd.get(), &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
  }

 private:
  sigset_t m_set{}, m_old{};
  Fd m_fd;
};

Fd connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw Error(Exit::usage, fmt::format("--socket path is too long: {}", path),
                fmt::format("at most {} bytes", sizeof addr.sun_path - 1));
  std::memcpy(addr.sun_path, path.data(), path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw sys_error(errno, "cannot create a Unix socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw sys_error(errno, fmt::format("cannot connect to {}", path), errno == ENOENT ? Exit::not_found : Exit::failed);
  return fd;
}

Fd connect_vsock(VsockAddress a) {
  Fd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd)
    throw Error(Exit::failed, "cannot create a vsock socket", errno_text(errno),
                "this kernel has no AF_VSOCK; use --socket or fds");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = a.cid;
  addr.svm_port = a.port;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw sys_error(errno, fmt::format("cannot connect to vsock {}:{}", a.cid, a.port));
  return fd;
}

// An inherited input fd. A pipe is grown to the 1 MiB the agent gives a container's pipes, so a
// burst waits in the pipe rather than in the writer, and each read moves more.
Fd inherited(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) ::fcntl(fd, F_SETPIPE_SZ, k_pipe_size);
  return Fd(fd);
}

Fd open_bundle(const std::string& path) {
  fs::make_dirs(path, 0700);
  Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw sys_error(errno, fmt::format("cannot open the bundle directory {}", path));
  return dir;
}

class Forwarder {
 public:
  explicit Forwarder(const ForwardOptions& o)
      : m_dir(open_bundle(o.bundle)),
        m_out(m_dir.get(), o.bundle, "stdout", o.rotation),
        m_err(m_dir.get(), o.bundle, "stderr", o.rotation),
        m_clock(std::max(m_out.last_time_ns(), m_err.last_time_ns())) {
    if (!o.command.empty()) {
      m_child.emplace(o.command, m_signals.old_mask());
      m_inputs.push_back({m_child->take_stdout(), Kind::out});
      m_inputs.push_back({m_child->take_stderr(), Kind::err});
    } else if (!o.socket_path.empty()) {
      m_inputs.push_back({connect_unix(o.socket_path), Kind::mux});
    } else if (o.vsock) {
      m_inputs.push_back({connect_vsock(*o.vsock), Kind::mux});
    } else {
      if (o.stdout_fd >= 0) m_inputs.push_back({inherited(o.stdout_fd), Kind::out});
      if (o.stderr_fd >= 0) m_inputs.push_back({inherited(o.stderr_fd), Kind::err});
    }
    m_buf.resize(k_read_size);
  }

  int run();

 private:
  bool all_eof() const {
    for (const auto& in : m_inputs)
      if (!in.eof) return false;
    return true;
  }
  // One read from a ready input; returns the bytes read (0 at EOF or when nothing was there).
  size_t read_once(Input& in);
  void handle(Input& in, std::string_view data, std::string_view stamp);
  void drain();
  // Writes what the framers hold. A stop by signal also fsyncs (the pod is going away); the end of
  // the streams does not: the lines are in the page cache for every reader already, and an fsync
  // of a large file would cost more than all the framing.
  int end(bool streams_ended, bool sync, int status);

  Signals m_signals;
  Fd m_dir;
  LogFile m_out, m_err;
  StampClock m_clock;
  WriteBehind m_writer;  // after the files: it is gone before they are
  Framer m_frame_out{cri::Stream::out}, m_frame_err{cri::Stream::err};
  Demux m_demux;
  std::optional<Child> m_child;
  std::vector<Input> m_inputs;
  std::string m_buf, m_recs_out, m_recs_err;
  bool m_paused = false;
};

void Forwarder::handle(Input& in, std::string_view data, std::string_view stamp) {
  m_recs_out.clear();
  m_recs_err.clear();
  if (in.kind == Kind::mux) {
    while (!data.empty()) {
      Demux::Piece p = m_demux.next(data);
      if (p.stream == cri::Stream::out)
        m_frame_out.feed(p.data, stamp, m_recs_out);
      else
        m_frame_err.feed(p.data, stamp, m_recs_err);
    }
  } else {
    (in.kind == Kind::out ? m_frame_out : m_frame_err)
        .feed(data, stamp, in.kind == Kind::out ? m_recs_out : m_recs_err);
  }
  if (!m_recs_out.empty()) m_writer.append(m_out, m_recs_out);
  if (!m_recs_err.empty()) m_writer.append(m_err, m_recs_err);
}

size_t Forwarder::read_once(Input& in) {
  ssize_t n = ::read(in.fd.get(), m_buf.data(), m_buf.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n < 0) log::info("reading the log input ended: {}", std::strerror(errno));  // as upstream: quietly
  if (n <= 0) {
    in.eof = true;
    if (in.kind == Kind::mux && !m_demux.at_boundary()) log::warn("the log channel ended inside a frame");
    return 0;
  }
  std::string stamp = m_clock.stamp();
  handle(in, std::string_view(m_buf.data(), static_cast<size_t>(n)), stamp);
  return static_cast<size_t>(n);
}

void Forwarder::drain() {
  for (auto& in : m_inputs) {
    for (uint64_t total = 0; !in.eof && total < k_drain_limit;) {
      pollfd p{in.fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
      size_t n = read_once(in);
      if (n == 0 && !in.eof) break;
      total += n;
    }
  }
}

int Forwarder::end(bool streams_ended, bool sync, int status) {
  std::string stamp = m_clock.stamp();
  m_recs_out.clear();
  m_recs_err.clear();
  m_frame_out.finish(stamp, streams_ended, m_recs_out);
  m_frame_err.finish(stamp, streams_ended, m_recs_err);
  if (!m_recs_out.empty()) m_writer.append(m_out, m_recs_out);
  if (!m_recs_err.empty()) m_writer.append(m_err, m_recs_err);
  m_writer.flush();
  if (m_clock.clamped() > 0)
    log::info("{} reads were stamped with a held time (the clock went back)", m_clock.clamped());
  if (sync) {
    m_out.sync();
    m_err.sync();
  }
  return status;
}

int Forwarder::run() {
  for (;;) {
    if (all_eof()) {
      int status = 0;
      if (m_child) m_child->reap(true, status);
      return end(true, false, status);
    }
    std::vector<pollfd> fds{{m_signals.fd(), POLLIN, 0}};
    std::vector<Input*> polled;
    for (auto& in : m_inputs)
      if (!in.eof && !m_paused) {
        fds.push_back({in.fd.get(), POLLIN, 0});
        polled.push_back(&in);
      }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw sys_error(errno, "cannot wait for log input");
    }
    if (fds[0].revents) {
      while (int sig = m_signals.next()) {
        if (sig == SIGTERM || sig == SIGINT) {
          if (m_child) m_child->signal(sig);
          drain();
          return end(all_eof(), true, 0);
        }
        if (sig == SIGUSR1 && !m_paused) {
          m_paused = true;
          m_writer.flush();
          m_out.sync();
          m_err.sync();
          log::info("paused: not reading until SIGUSR2");
        }
        if (sig == SIGUSR2) m_paused = false;
        int status = 0;
        if (sig == SIGCHLD && m_child && m_child->reap(false, status)) {
          drain();  // what the command wrote before it exited is in the pipes now
          return end(true, false, status);
        }
      }
      continue;
    }
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents) read_once(*polled[i - 1]);
  }
}

}  // namespace

VsockAddress parse_vsock(const std::string& text) {
  VsockAddress a;
  size_t colon = text.find(':');
  auto num = [&](std::string_view s, uint32_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  if (colon == std::string::npos || !num(std::string_view(text).substr(0, colon), a.cid) ||
      !num(std::string_view(text).substr(colon + 1), a.port))
    throw Error(Exit::usage, fmt::format("--vsock \"{}\" is not CID:PORT", text),
                "two unsigned 32-bit numbers, e.g. 3:1024");
  return a;
}

void check_options(const ForwardOptions& o) {
  int inputs =
      (o.stdout_fd >= 0 || o.stderr_fd >= 0) + !o.socket_path.empty() + o.vsock.has_value() + !o.command.empty();
  if (inputs != 1)
    throw Error(Exit::usage, inputs == 0 ? "forward needs an input" : "forward takes one kind of input",
                "give --stdout-fd/--stderr-fd, --socket, --vsock, or -- CMD ARGS…");
  if (o.stdout_fd >= 0 && o.stdout_fd == o.stderr_fd)
    throw Error(Exit::usage, fmt::format("--stdout-fd and --stderr-fd are both {}", o.stdout_fd),
                "each stream needs its own fd");
  for (int fd : {o.stdout_fd, o.stderr_fd})
    if (fd >= 0 && ::fcntl(fd, F_GETFD) < 0)
      throw Error(Exit::usage, fmt::format("fd {} is not open", fd), "the fd must be inherited from the caller");
  if (o.rotation.max_files > 1000)
    throw Error(Exit::usage, fmt::format("--max-files {} is too large", o.rotation.max_files), "at most 1000");
  if (o.rotation.max_size > 0 && o.rotation.max_files < 2)
    throw Error(Exit::usage, fmt::format("--max-files {} is too small", o.rotation.max_files),
                "rotation keeps the current file and at least one old one: 2 or more");
  if (o.rotation.max_size > 0 && o.rotation.max_size < 4096)
    throw Error(Exit::usage, fmt::format("--max-size {} is too small", o.rotation.max_size), "at least 4K");
}

int forward(const ForwardOptions& options) {
  check_options(options);
  Forwarder f(options);
  return f.run();
}

}  // namespace cube::logs
