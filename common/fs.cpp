#include "fs.hpp"

#include <climits>

#include "error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <random>
#include <vector>

namespace cube::fs {
namespace {

constexpr int64_t k_cifs_magic = 0xFF534D42;
constexpr int64_t k_smb2_magic = 0xFE534D42;
constexpr int64_t k_fuse_magic = 0x65735546;

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string current_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string();
}

std::string basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return "/";  // as basename(1)
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void make_dirs(const std::string& path, unsigned mode) {
  if (path.empty() || path == "." || path == "/") return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(Exit::failed, fmt::format("{} exists and is not a directory", path));
    return;
  }
  make_dirs(dirname(path), mode);
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    throw sys_error(errno, fmt::format("cannot create directory {}", path));
}

Fd open_beneath(int base_fd, std::string_view relative, int flags, unsigned mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  // openat2 refuses a mode without O_CREAT or O_TMPFILE, and applies it with either.
  bool makes_file = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  how.mode = makes_file ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  std::string rel(relative);
  long fd = ::syscall(SYS_openat2, base_fd, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return Fd(static_cast<int>(fd));
  if (errno != ENOSYS && errno != EPERM) return Fd();  // EPERM: a seccomp filter without openat2
  return open_beneath_walk(base_fd, relative, flags, mode);
}

Fd open_beneath_walk(int base_fd, std::string_view relative, int flags, unsigned mode) {
  if (relative.empty() || relative.front() == '/') {
    errno = EXDEV;
    return Fd();
  }
  auto parts = components(relative);
  if (parts.empty()) {
    errno = EINVAL;
    return Fd();
  }
  Fd dir;
  int at = base_fd;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string name(parts[i]);
    if (name == "..") {
      errno = EXDEV;
      return Fd();
    }
    bool last = i + 1 == parts.size();
    int f = last ? (flags | O_NOFOLLOW | O_CLOEXEC) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd = ::openat(at, name.c_str(), f, mode);
    if (fd < 0) return Fd();
    if (last) return Fd(fd);
    dir.reset(fd);
    at = dir.get();
  }
  return Fd();
}

namespace {

std::string_view file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFDIR: return "a directory";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
  }
  return "not a regular file";
}

// fstat of a fresh descriptor: a regular file within max_bytes, back in blocking mode.
Fd checked_regular(Fd fd, const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}", path));
  if (!S_ISREG(st.st_mode))
    throw Error(Exit::usage, fmt::format("{} is {}, not a regular file", path, file_kind(st.st_mode)), "",
                "give a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw Error(Exit::usage, fmt::format("{} is too large", path),
                fmt::format("{} bytes, the limit is {}", st.st_size, max_bytes));
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0)
    throw sys_error(errno, fmt::format("cannot set up {}", path));
  return fd;
}

Exit open_exit(int err) {
  if (err == ENOENT || err == ENOTDIR) return Exit::not_found;
  return err == ELOOP || err == EXDEV || err == ENXIO || err == EISDIR ? Exit::usage : Exit::failed;
}

}  // namespace

Fd open_regular(const std::string& path, uint64_t max_bytes, int flags) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags));
  if (!fd) throw sys_error(errno, fmt::format("cannot open {}", path), open_exit(errno));
  return checked_regular(std::move(fd), path, max_bytes);
}

Fd open_regular_beneath(int base_fd, std::string_view relative, const std::string& shown, uint64_t max_bytes) {
  Fd fd = open_beneath(base_fd, relative, O_RDONLY | O_NONBLOCK);
  if (!fd) {
    int err = errno;
    if (err == ELOOP || err == EXDEV)
      throw Error(Exit::usage, fmt::format("{} is a symbolic link or leads out of its directory", shown),
                  "files inside an image layout are read only where they are, never through a link");
    throw sys_error(err, fmt::format("cannot open {}", shown), open_exit(err));
  }
  return checked_regular(std::move(fd), shown, max_bytes);
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  Fd fd = open_regular(path, max_bytes);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}", path));
  // Read to end of file, not to st_size: /proc and /sys files report 0 or a page whatever they hold,
  // and a file may grow meanwhile. The limit applies to what was read.
  std::string data(static_cast<size_t>(st.st_size) + 4096, '\0');
  size_t got = 0;
  for (;;) {
    if (got == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", path));
    if (n == 0) break;
    got += static_cast<size_t>(n);
    if (got > max_bytes)
      throw Error(Exit::usage, fmt::format("{} is too large", path),
                  fmt::format("over {} bytes, the limit", max_bytes));
  }
  data.resize(got);
  return data;
}

std::string read_fd(int fd, uint64_t max_bytes, std::string_view what) {
  std::string data;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", what));
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > max_bytes)
      throw Error(Exit::usage, fmt::format("{} is too large", what), fmt::format("the limit is {} bytes", max_bytes));
    data.append(buf, static_cast<size_t>(n));
  }
}

void atomic_write(const std::string& path, std::string_view data, unsigned mode) {
  std::string dir = dirname(path);
  std::random_device rd;
  std::string tmp = fmt::format("{}/.{}.tmp.{:08x}", dir, basename(path), rd());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) throw sys_error(errno, fmt::format("cannot create {}", tmp));
  auto fail = [&](const char* doing) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw sys_error(e, fmt::format("cannot {} {}", doing, path));
  };
  if (::fchmod(fd.get(), mode) != 0) fail("set the mode of");
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) fail("sync");
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename a temp file onto");
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
}

SpaceInfo space(const std::string& path) {
  struct statfs sf {};
  if (::statfs(path.c_str(), &sf) != 0) throw sys_error(errno, fmt::format("cannot statfs {}", path));
  SpaceInfo info;
  info.total_bytes = static_cast<uint64_t>(sf.f_blocks) * static_cast<uint64_t>(sf.f_bsize);
  info.available_bytes = static_cast<uint64_t>(sf.f_bavail) * static_cast<uint64_t>(sf.f_bsize);
  info.fs_type = static_cast<int64_t>(sf.f_type) & 0xFFFFFFFF;
  info.network = info.fs_type == NFS_SUPER_MAGIC || info.fs_type == k_cifs_magic || info.fs_type == k_smb2_magic ||
                 info.fs_type == k_fuse_magic;
  return info;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace cube::fs
