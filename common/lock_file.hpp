// cube fs::LockFile — an exclusive flock(2) on a file kept for it, held as long as the object lives:
// for work that must not run twice at once across processes (one job per artifact). A process
// killed while holding it releases it with its descriptors.
//
// Contract:
// - The file is created when missing (0600, never through a symlink) and never removed: removing
//   a lock file lets a second process lock a new file while a first holds the old one.
// - When another process holds the lock, `waiting` runs once (to say so) and the constructor waits.
// - A file system that cannot lock (NFS without a lock daemon) counts as locked: the work then runs
//   unguarded, as it would without this.
#pragma once

#include "fd.hpp"

#include <functional>
#include <string>

namespace cube::fs {

// flock(LOCK_EX) on `fd`, retried when a signal interrupts it; false when `nonblocking` and another
// holds it. Counts a file system that cannot lock as locked. Throws on other errors.
bool lock_exclusive(int fd, bool nonblocking);

class LockFile {
 public:
  explicit LockFile(const std::string& path, const std::function<void()>& waiting = {});
  LockFile(LockFile&&) noexcept = default;
  LockFile& operator=(LockFile&&) noexcept = default;

 private:
  Fd m_fd;
};

}  // namespace cube::fs
