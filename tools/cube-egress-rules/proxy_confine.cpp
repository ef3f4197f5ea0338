#include "proxy_confine.hpp"

#include "error.hpp"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cube::egress {

void drop_capabilities() {
  // Both need CAP_SETPCAP, which a unit's CapabilityBoundingSet= may have left out: then that
  // bounding set is the limit already, and the empty permitted set below is what counts.
  ::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED);
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, data) != 0) throw sys_error(errno, "cannot drop the proxy's capabilities");
  if (::syscall(SYS_capget, &header, data) != 0 || data[0].effective != 0 || data[1].effective != 0)
    throw Error(Exit::failed, "the proxy still has capabilities after dropping them");
}

seccomp::Filter proxy_allowlist() {
  seccomp::Filter f;
  // The event loop and its threads.
  f.allow({"epoll_wait",
           "epoll_pwait",
           "epoll_ctl",
           "eventfd2",
           "timerfd_settime",
           "timerfd_gettime",
           "futex",
           "clock_gettime",
           "clock_nanosleep",
           "nanosleep",
           "gettid",
           "getpid",
           "sched_yield",
           "rt_sigprocmask",
           "rt_sigaction",
           "rt_sigreturn",
           "restart_syscall",
           "tgkill",
           "set_robust_list",
           "rseq",
           "sigaltstack",
           "madvise",
           "mmap",
           "munmap",
           "mremap",
           "mprotect",
           "brk",
           "getrandom",
           "exit",
           "exit_group"});
  // Threads only (the resolver's): clone with CLONE_THREAD; clone3, whose flags a filter cannot
  // see, fails so that the C library falls back to clone.
  f.allow_arg0_bits("clone", CLONE_THREAD);
  f.fail({"clone3"}, ENOSYS);
  // Connections: accept, peek, splice relays, upstream connects, the health endpoint, sd_notify and
  // the resolver's DNS and netlink sockets.
  f.allow({"accept",     "accept4",    "socket",   "connect",  "bind",    "getsockname", "getpeername",
           "setsockopt", "getsockopt", "shutdown", "recvfrom", "recvmsg", "recvmmsg",    "sendto",
           "sendmsg",    "sendmmsg",   "read",     "readv",    "write",   "writev",      "splice",
           "pipe2",      "close",      "ioctl",    "fcntl",    "poll",    "ppoll"});
  // Files: the audit log (open, rotate), the state file and the names file (SQLite, which removes
  // their -wal and -shm when its last connection closes; the names file is opened again after a
  // delete, and its first opener sets up the WAL index with ftruncate and gives the files the
  // database's owner with fchown), the resolver's configuration.
  f.allow({"openat",    "fstat",  "newfstatat", "statx",   "lseek",     "pread64",    "pwrite64",
           "fchmod",    "fchown", "ftruncate",  "rename",  "unlink",    "unlinkat",   "renameat",
           "renameat2", "fsync",  "fdatasync",  "access",  "faccessat", "faccessat2", "getcwd",
           "readlink",  "uname",  "getuid",     "geteuid", "getgid",    "getegid",    "sysinfo"});
  return f;
}

}  // namespace cube::egress
