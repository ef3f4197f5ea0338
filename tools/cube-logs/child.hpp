// cube::logs::Child — the command `cube-logs forward -- CMD…` runs, wired the way the guest agent
// wires a container's init process (doc/cube-logs.md, "Forwarding"): stdout and stderr are pipes
// of 1 MiB whose write ends are non-blocking (a full pipe drops output instead of stalling the
// container), and our copies of the write ends are closed after the fork so EOF arrives when the
// command exits.
#pragma once

#include "fd.hpp"

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace cube::logs {

inline constexpr int k_pipe_size = 1024 * 1024;

class Child {
 public:
  // Starts argv[0] (searched in PATH) with `mask` as its signal mask. Throws Error when the
  // command cannot be run; the read ends are non-blocking and close-on-exec.
  Child(const std::vector<std::string>& argv, const sigset_t& mask);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  Fd take_stdout() { return std::move(m_out); }
  Fd take_stderr() { return std::move(m_err); }
  pid_t pid() const { return m_pid; }
  // Reaps the child; false while it still runs (when !block). `status` becomes the exit status a
  // shell would report: the code, or 128 + the signal number.
  bool reap(bool block, int& status);
  void signal(int sig) const;

 private:
  pid_t m_pid = -1;
  bool m_reaped = false;
  Fd m_out, m_err;
};

}  // namespace cube::logs
