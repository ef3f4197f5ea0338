#include "lock_file.hpp"

#include "error.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cube::fs {
namespace {

// Whether `path` still names the file open as `fd`: a holder may have removed it (and another made
// it again) while this process waited.
bool names_open_file(const std::string& path, int fd) {
  struct stat open {
  }, named{};
  if (::fstat(fd, &open) != 0) throw sys_error(errno, "cannot inspect the lock file " + path);
  if (::lstat(path.c_str(), &named) != 0) {
    if (errno == ENOENT) return false;
    throw sys_error(errno, "cannot inspect the lock file " + path);
  }
  return open.st_dev == named.st_dev && open.st_ino == named.st_ino;
}

}  // namespace

bool lock_exclusive(int fd, bool nonblocking) {
  for (;;) {
    if (::flock(fd, LOCK_EX | (nonblocking ? LOCK_NB : 0)) == 0) return true;
    if (errno == EWOULDBLOCK && nonblocking) return false;
    // NFS without a lock daemon; a directory on NFS, whose emulation needs a file open for writing.
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EBADF) return true;
    if (errno != EINTR) throw sys_error(errno, "cannot take a file lock");
  }
}

bool LockFile::take(bool nonblocking, const std::function<void()>& waiting) {
  bool said = false;
  for (;;) {
    m_fd.reset(::open(m_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!m_fd) throw sys_error(errno, "cannot open the lock file " + m_path);
    if (!lock_exclusive(m_fd.get(), true)) {
      if (nonblocking) return false;
      if (waiting && !said) waiting();
      said = true;
      lock_exclusive(m_fd.get(), false);
    }
    if (names_open_file(m_path, m_fd.get())) return true;
  }
}

LockFile::LockFile(const std::string& path, const std::function<void()>& waiting) : m_path(path) {
  take(false, waiting);
}

std::optional<LockFile> LockFile::try_take(const std::string& path) {
  LockFile l;
  l.m_path = path;
  if (!l.take(true, {})) return std::nullopt;
  return l;
}

bool LockFile::held(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    throw sys_error(errno, "cannot open the lock file " + path);
  }
  for (;;) {
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // released when `fd` closes
    if (errno == EWOULDBLOCK) return true;
    if (errno != EINTR) return false;  // a file system that cannot lock guards nothing
  }
}

void LockFile::remove() {
  if (::unlink(m_path.c_str()) != 0 && errno != ENOENT) throw sys_error(errno, "cannot remove the lock file " + m_path);
}

}  // namespace cube::fs
