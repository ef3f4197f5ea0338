#include "allowlist.hpp"

#include <unistd.h>

namespace cube::logs {

seccomp::Filter reader_allowlist(Following following) {
  seccomp::Filter f;
  f.allow({"read",    "pread64",      "readv",          "lseek", "fstat",         "newfstatat", "statx",
           "close",   "exit",         "exit_group",     "brk",   "mmap",          "munmap",     "mremap",
           "madvise", "rt_sigreturn", "rt_sigprocmask", "futex", "clock_gettime", "getrandom",  "restart_syscall"});
  f.allow_arg0("write", {STDOUT_FILENO, STDERR_FILENO});
  f.allow_arg0("writev", {STDOUT_FILENO, STDERR_FILENO});
  if (following == Following::yes) f.allow({"poll", "ppoll", "openat2", "openat"});
  return f;
}

}  // namespace cube::logs
