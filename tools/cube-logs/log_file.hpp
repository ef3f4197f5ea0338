// cube::logs::LogFile — one stream's log file in a bundle directory, with exact rotation.
//
// Contract:
// - The file is `<dir>/<name>` (name = stdout or stderr), created 0600 and opened O_APPEND without
//   following a symlink; the directory is held open so a rename of the bundle path cannot redirect
//   writes.
// - append(records) takes whole records only. With max_size > 0, before a record that would take
//   the file past max_size (and the file is not empty) the file rotates: name.(k-1) → name.k for
//   k = max_files-1 … 2, then name → name.1, and a fresh name. So no file exceeds max_size by more
//   than one record (only a single record larger than max_size can), a record is never split
//   between files, and the oldest file beyond max_files is replaced by the rename onto it.
// - Crash consistency: a forwarder killed mid-rotation leaves a rotated name missing (a gap the
//   reader reports). Opening closes such gaps first, renaming the rotated files down in order, so
//   the names are contiguous again; each rename keeps the order, so a crash during it is repaired
//   by the next open. A current file whose last record has no newline (a write cut short) is
//   truncated to its last whole record, with a warning, so the next record is not glued to it.
// - A write that fails (a full disk) truncates the file back to its last whole record before the
//   error is thrown: no torn record is left behind.
// - last_time_ns(): the time of the file's last record at open, so a restarted forwarder can keep
//   times from going backwards across the restart.
// - sync() fsyncs the current file. Errors throw cube::Error naming the file.
#pragma once

#include "fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cube::logs {

struct Rotation {
  uint64_t max_size = 0;  // 0: never rotate
  int max_files = 5;      // the current file included; ≥ 2 when max_size > 0
};

class LogFile {
 public:
  LogFile(int dir_fd, std::string dir_path, std::string name, Rotation rotation);

  // Writes `records` (one or more whole records, each ending in \n), rotating between records as
  // needed.
  void append(std::string_view records);
  void sync();
  uint64_t size() const { return m_size; }
  uint64_t rotations() const { return m_rotations; }
  int64_t last_time_ns() const { return m_last_time_ns; }

 private:
  void close_gaps();
  void drop_torn_tail(int fd, uint64_t& size);
  void open_current();
  void rotate();
  void write_all(std::string_view bytes);

  int m_dir_fd;
  std::string m_dir_path;
  std::string m_name;
  Rotation m_rotation;
  Fd m_fd;
  uint64_t m_size = 0;
  uint64_t m_rotations = 0;
  int64_t m_last_time_ns = 0;
};

}  // namespace cube::logs
