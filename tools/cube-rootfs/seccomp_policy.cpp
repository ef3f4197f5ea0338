#include "seccomp_policy.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"
#include "seccomp.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/landlock.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

namespace cube::rootfs {
namespace {

// What reading tar streams, allocating memory and writing one image file takes; nothing more.
seccomp::Filter build_filter() {
  seccomp::Filter f(seccomp::Denied::kill);
  f.allow(
      {"read",       "write",       "pread64",         "pwrite64",     "readv",          "writev",       "lseek",
       "close",      "fstat",       "newfstatat",      "statx",        "openat",         "fstatfs",      "statfs",
       "ftruncate",  "fallocate",   "fsync",           "fdatasync",    "renameat",       "renameat2",    "rename",
       "unlinkat",   "unlink",      "getdents64",      "mmap",         "munmap",         "mremap",       "brk",
       "madvise",    "mprotect",    "futex",           "getrandom",    "clock_gettime",  "gettimeofday", "getpid",
       "gettid",     "getppid",     "getuid",          "geteuid",      "getgid",         "getegid",      "fcntl",
       "dup",        "dup3",        "umask",           "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "exit",
       "exit_group", "sched_yield", "copy_file_range", "readlink",     "readlinkat",     "uname",        "prlimit64",
       "ioctl",      "fchmod",      "fchown"});
  // The image writer starts the image's writeback as it goes (image_writes.hpp).
  f.allow({"sync_file_range"});
  // The image's part file is held under a lock, one writer per output (part_file.hpp).
  f.allow({"flock"});
  // A file system without RENAME_NOREPLACE (NFS) gets the output by a hard link instead.
  f.allow({"link", "linkat"});
  // Lazily loaded C library parts (iconv, locale data) may use open; a sanitizer build's runtime
  // probes memory through a pipe and runs on an alternate signal stack.
  f.allow({"open", "pipe", "pipe2", "sigaltstack"});
  // libext2fs asks whether the process is dumpable before reading its environment knobs.
  f.allow_arg0("prctl", {PR_GET_DUMPABLE});
  // Layers are read ahead on a second thread (read_ahead.hpp): threads may be started, processes
  // not. clone3 hides its flags from the filter, so it fails and the C library falls back to clone.
  f.allow_arg0_bits("clone", CLONE_THREAD);
  f.fail({"clone3"}, ENOSYS);
  f.allow({"set_robust_list", "rseq"});
  return f;
}

long landlock_create(const landlock_ruleset_attr* attr, size_t size, uint32_t flags) {
  return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

void allow_path(int ruleset, const std::string& path, uint64_t access) {
  Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return;  // a path that does not exist needs no rule
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, "reading " + path);
  // A rule on a file may only carry the rights that apply to files.
  if (!S_ISDIR(st.st_mode)) access &= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
  landlock_path_beneath_attr rule{access, fd.get()};
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
    throw sys_error(errno, "adding a Landlock rule for " + path);
}

void install_landlock(const std::vector<std::string>& writable, const std::vector<std::string>& readable) {
  long abi = landlock_create(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    log::debug("Landlock is not available ({}); file access is not confined", errno_text(errno));
    return;
  }
  const uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  uint64_t all = read | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) all |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 3) all |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = all;
  Fd ruleset(static_cast<int>(landlock_create(&attr, sizeof attr, 0)));
  if (!ruleset) throw sys_error(errno, "creating the Landlock ruleset");
  const uint64_t write = all & ~static_cast<uint64_t>(LANDLOCK_ACCESS_FS_EXECUTE);
  for (const auto& p : writable) allow_path(ruleset.get(), p, write);
  for (const auto& p : readable) allow_path(ruleset.get(), p, read);
  // The C library loads iconv modules (libarchive's name conversion) and time zone data lazily.
  for (const char* p :
       {"/usr/lib", "/usr/share/zoneinfo", "/usr/share/i18n", "/etc/localtime", "/proc/self", "/dev/urandom"})
    allow_path(ruleset.get(), p, read);
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
    throw sys_error(errno, "restricting the build process with Landlock");
}

}  // namespace

void install_build_policy(const std::vector<std::string>& writable, const std::vector<std::string>& readable) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw sys_error(errno, "setting no_new_privs");
  install_landlock(writable, readable);
  build_filter().load();
}

std::string policy_text() { return build_filter().pfc(); }

}  // namespace cube::rootfs
