#include "part_file.hpp"

#include "error.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>  // renameat2

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace cube::fs {
namespace {

// flock(2), retried when a signal interrupts it; false when `nonblocking` and another holds it.
// A file system that cannot lock (NFS without a lock daemon; a directory on NFS, whose emulation
// needs a file open for writing) counts as locked: there writers go unguarded, as without this.
bool lock(int fd, bool nonblocking) {
  for (;;) {
    if (::flock(fd, LOCK_EX | (nonblocking ? LOCK_NB : 0)) == 0) return true;
    if (errno == EWOULDBLOCK && nonblocking) return false;
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EBADF) return true;
    if (errno != EINTR) throw sys_error(errno, "cannot lock a part file");
  }
}

// Removes the part a killed writer left; Error(conflict) when a live writer holds it.
void remove_abandoned(const std::string& part, const std::string& target) {
  Fd old(::open(part.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));  // NFS locks need writing
  if (!old && errno == ENOENT) return;
  // Not a file we could have made (a symlink, a FIFO it cannot open...): removed all the same, as
  // the unlocked part of a killed writer would be; what sits at <target>.part is ours to replace.
  if (old && !lock(old.get(), true))
    throw Error(Exit::conflict, fmt::format("another writer is making {}", target),
                fmt::format("{} is held by a running process", part), "wait for it to finish, or write elsewhere");
  if (::unlink(part.c_str()) != 0 && errno != ENOENT) throw sys_error(errno, "cannot remove " + part);
}

}  // namespace

PartFile::PartFile(std::string target) : m_target(std::move(target)), m_path(m_target + ".part") {
  std::string dir = dirname(m_target);
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw sys_error(errno, "cannot open the directory of " + m_target);
  lock(d.get(), false);  // released when `d` closes, once the part is made and locked
  remove_abandoned(m_path, m_target);
  m_fd.reset(::open(m_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!m_fd) throw sys_error(errno, "cannot create " + m_path);
  lock(m_fd.get(), false);
}

PartFile::~PartFile() {
  if (!m_committed) ::unlink(m_path.c_str());
}

void PartFile::commit(bool replace) {
  int rc = replace ? ::rename(m_path.c_str(), m_target.c_str())
                   : ::renameat2(AT_FDCWD, m_path.c_str(), AT_FDCWD, m_target.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EEXIST)
    throw Error(Exit::conflict, fmt::format("{} already exists", m_target), "it appeared while this one was written",
                "remove it first");
  if (rc != 0) throw sys_error(errno, "cannot rename the part onto " + m_target);
  m_committed = true;
}

}  // namespace cube::fs
