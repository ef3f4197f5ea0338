#include "child.hpp"

#include "error.hpp"
#include "log.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace cube::logs {
namespace {

struct Pipe {
  Fd read, write;
};

Pipe make_pipe(const char* which) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw sys_error(errno, fmt::format("cannot create the {} pipe", which));
  Pipe p{Fd(fds[0]), Fd(fds[1])};
  if (::fcntl(p.read.get(), F_SETPIPE_SZ, k_pipe_size) < 0)
    log::warn("cannot size the {} pipe to {} bytes: {} (see /proc/sys/fs/pipe-max-size)", which, k_pipe_size,
              std::strerror(errno));
  ::fcntl(p.write.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(p.read.get(), F_SETFL, O_NONBLOCK);
  return p;
}

// In the child between fork and exec: only async-signal-safe calls. On failure the errno goes to
// the parent through `report`, which closes on a successful exec.
[[noreturn]] void exec_child(char* const* argv, int out, int err, int report, const sigset_t& mask) {
  if (::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) {
    int e = errno;
    (void)!::write(report, &e, sizeof e);
    ::_exit(127);
  }
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  // cube's CLI ignores SIGPIPE for itself; the command gets the default a shell would give it.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  ::execvp(argv[0], argv);
  int e = errno;
  (void)!::write(report, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

Child::Child(const std::vector<std::string>& args, const sigset_t& mask) {
  Pipe out = make_pipe("stdout"), err = make_pipe("stderr");
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) throw sys_error(errno, "cannot create a pipe");
  Fd report_read(rep[0]), report_write(rep[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  m_pid = ::fork();
  if (m_pid < 0) throw sys_error(errno, fmt::format("cannot start {}", args[0]));
  if (m_pid == 0) exec_child(argv.data(), out.write.get(), err.write.get(), report_write.get(), mask);
  report_write.reset();
  int e = 0;
  ssize_t n;
  while ((n = ::read(report_read.get(), &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (n == sizeof e) {
    int status;
    reap(true, status);
    throw Error(e == ENOENT ? Exit::not_found : Exit::failed, fmt::format("cannot run {}", args[0]), errno_text(e),
                e == ENOENT ? "check the command name and PATH" : "");
  }
  m_out = std::move(out.read);
  m_err = std::move(err.read);
}

Child::~Child() {
  int status;
  if (m_pid > 0 && !m_reaped) reap(false, status);
}

bool Child::reap(bool block, int& status) {
  int st = 0;
  pid_t r;
  while ((r = ::waitpid(m_pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r != m_pid) return false;
  m_reaped = true;
  status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

void Child::signal(int sig) const {
  if (m_pid > 0 && !m_reaped) ::kill(m_pid, sig);
}

}  // namespace cube::logs
