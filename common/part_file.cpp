#include "part_file.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "lock_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>  // renameat2

#include <fcntl.h>
#include <unistd.h>

namespace cube::fs {
namespace {

// Removes the part a killed writer left; Error(conflict) when a live writer holds it, or when it
// cannot be told (a part this user may not open: another user's writer may hold it).
void remove_abandoned(const std::string& part, const std::string& target) {
  constexpr int k_flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  Fd old(::open(part.c_str(), O_RDWR | k_flags));  // NFS locks need writing
  if (!old && errno != ENOENT && errno != ELOOP) old.reset(::open(part.c_str(), O_RDONLY | k_flags));
  if (!old && errno == ENOENT) return;
  // A symbolic link is no part a writer made, and is replaced, never followed.
  if (!old && errno != ELOOP) throw sys_error(errno, fmt::format("cannot tell whether a writer holds {}", part));
  if (old && !lock_exclusive(old.get(), true))
    throw Error(Exit::conflict, fmt::format("another writer is making {}", target),
                fmt::format("{} is held by a running process", part), "wait for it to finish, or write elsewhere");
  if (::unlink(part.c_str()) != 0 && errno != ENOENT) throw sys_error(errno, "cannot remove " + part);
}

// Renames `from` onto `to` unless `to` exists: renameat2's RENAME_NOREPLACE, or on a file system
// without it (NFS, 9p, FUSE answer EINVAL) a hard link, which fails the same way, then an unlink.
int rename_noreplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  return ::unlink(from.c_str());
}

}  // namespace

PartFile::PartFile(std::string target) : m_target(std::move(target)), m_path(m_target + ".part") {
  std::string dir = dirname(m_target);
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw sys_error(errno, "cannot open the directory of " + m_target);
  lock_exclusive(d.get(), false);  // released when `d` closes, once the part is made and locked
  remove_abandoned(m_path, m_target);
  m_fd.reset(::open(m_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!m_fd) throw sys_error(errno, "cannot create " + m_path);
  lock_exclusive(m_fd.get(), false);
}

PartFile::~PartFile() {
  if (!m_committed) ::unlink(m_path.c_str());
}

void PartFile::commit(bool replace) {
  int rc = replace ? ::rename(m_path.c_str(), m_target.c_str()) : rename_noreplace(m_path, m_target);
  if (rc != 0 && errno == EEXIST)
    throw Error(Exit::conflict, fmt::format("{} already exists", m_target), "it appeared while this one was written",
                "remove it first");
  if (rc != 0) throw sys_error(errno, "cannot rename the part onto " + m_target);
  m_committed = true;
}

}  // namespace cube::fs
