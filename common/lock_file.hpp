// cube fs::LockFile — an exclusive flock(2) on a file kept for it, held as long as the object lives:
// for work that must not run twice at once across processes (one job per artifact). A process
// killed while holding it releases it with its descriptors.
//
// Contract:
// - The file is created when missing (0600, never through a symlink).
// - When another process holds the lock, `waiting` runs once (to say so) and the constructor waits.
// - Only a holder removes the file (`remove()`), once the work it guards is gone. A process that was
//   waiting on the removed file, or locks a file removed and made again meanwhile, sees that the path
//   no longer names the file it locked and locks the path anew: so two processes never hold one path.
// - A file system that cannot lock (NFS without a lock daemon) counts as locked: the work then runs
//   unguarded, as it would without this.
#pragma once

#include "fd.hpp"

#include <functional>
#include <optional>
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

  // The lock when no other process holds it, else nothing (never waits).
  static std::optional<LockFile> try_take(const std::string& path);

  // Whether another process holds the lock at `path` now; creates nothing (for a dry run).
  static bool held(const std::string& path);

  // Removes the file while the lock is held (see the contract); the lock stays held until the object
  // goes. Throws when it cannot.
  void remove();

 private:
  LockFile() = default;
  // Opens and locks the path until it names the file locked; false when `nonblocking` and held.
  bool take(bool nonblocking, const std::function<void()>& waiting);

  std::string m_path;
  Fd m_fd;
};

}  // namespace cube::fs
