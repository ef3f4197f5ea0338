// cube fs::PartFile — the file a writer fills beside its target, renamed onto the target when whole,
// so that a reader of the target sees the old file or the new one, never a part.
//
// Contract:
// - One writer per target. The part is `<target>.part`, created with O_EXCL (never through a
//   symlink) and held under flock(LOCK_EX) for as long as the PartFile lives. A second writer of the
//   same target finds the part locked and gets Error(conflict) naming the target. A part no one
//   holds (its writer was killed) is removed and the part made afresh.
// - The check and the creation happen under a flock of the target's directory, so no writer can
//   remove a part that another has just created and not yet locked.
// - commit() renames the part onto the target; with `replace` false, a target that exists by then
//   stays and commit() throws Error(conflict). Without a commit, the destructor removes the part.
#pragma once

#include "fd.hpp"

#include <string>

namespace cube::fs {

class PartFile {
 public:
  explicit PartFile(std::string target);
  ~PartFile();
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  const std::string& path() const { return m_path; }
  int fd() const { return m_fd.get(); }
  void commit(bool replace = true);  // throws Error naming the target when the rename fails

 private:
  std::string m_target, m_path;
  Fd m_fd;
  bool m_committed = false;
};

}  // namespace cube::fs
