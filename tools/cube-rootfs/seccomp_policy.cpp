#include "seccomp_policy.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

namespace cube::rootfs {
namespace {

struct ReleaseFilter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using FilterPtr = std::unique_ptr<void, ReleaseFilter>;

// What reading tar streams, allocating memory and writing one image file takes; nothing more.
constexpr const char* k_allowed[] = {
    "read",
    "write",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "statx",
    "openat",
    "fstatfs",
    "statfs",
    "ftruncate",
    "fallocate",
    "fsync",
    "fdatasync",
    "renameat",
    "renameat2",
    "rename",
    "unlinkat",
    "unlink",
    "getdents64",
    "mmap",
    "munmap",
    "mremap",
    "brk",
    "madvise",
    "mprotect",
    "futex",
    "getrandom",
    "clock_gettime",
    "gettimeofday",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "fcntl",
    "dup",
    "dup3",
    "umask",
    "rt_sigreturn",
    "rt_sigprocmask",
    "rt_sigaction",
    "exit",
    "exit_group",
    "sched_yield",
    "copy_file_range",
    "readlink",
    "readlinkat",
    "uname",
    "prlimit64",
    "ioctl",
    "fchmod",
    "fchown",
    // The sanitizer runtime (make SAN=1) probes memory through a pipe and reads /proc/self/maps.
    "pipe2",
    "pipe",
    "open",
    "sigaltstack",
};

FilterPtr build_filter() {
  FilterPtr ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) throw Error(Exit::failed, "cannot initialise the seccomp filter");
  for (const char* name : k_allowed) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    if (rc != 0) throw sys_error(-rc, fmt::format("adding {} to the seccomp filter", name));
  }
  // libext2fs asks whether the process is dumpable before reading its environment knobs.
  int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
  if (rc != 0) throw sys_error(-rc, "adding prctl(PR_GET_DUMPABLE) to the seccomp filter");
  return ctx;
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
  FilterPtr ctx = build_filter();
  int rc = seccomp_load(ctx.get());
  if (rc != 0) throw sys_error(-rc, "loading the seccomp filter");
}

std::string policy_text() {
  FilterPtr ctx = build_filter();
  Fd mem(::memfd_create("cube-seccomp-pfc", MFD_CLOEXEC));
  if (!mem) throw sys_error(errno, "creating a memory file");
  int rc = seccomp_export_pfc(ctx.get(), mem.get());
  if (rc != 0) throw sys_error(-rc, "exporting the seccomp filter");
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(mem.get(), buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace cube::rootfs
