#include "lock_file.hpp"

#include "error.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>

namespace cube::fs {

bool lock_exclusive(int fd, bool nonblocking) {
  for (;;) {
    if (::flock(fd, LOCK_EX | (nonblocking ? LOCK_NB : 0)) == 0) return true;
    if (errno == EWOULDBLOCK && nonblocking) return false;
    // NFS without a lock daemon; a directory on NFS, whose emulation needs a file open for writing.
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EBADF) return true;
    if (errno != EINTR) throw sys_error(errno, "cannot take a file lock");
  }
}

LockFile::LockFile(const std::string& path, const std::function<void()>& waiting)
    : m_fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) {
  if (!m_fd) throw sys_error(errno, "cannot open the lock file " + path);
  if (lock_exclusive(m_fd.get(), true)) return;
  if (waiting) waiting();
  lock_exclusive(m_fd.get(), false);
}

}  // namespace cube::fs
