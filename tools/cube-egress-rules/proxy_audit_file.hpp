// cube::egress proxy_audit_file — the audit log's file: appended to whole lines at a time, mode
// 0640, reopened on demand (SIGHUP, after logrotate moved it) and rotated past a size cap.
//
// Contract:
// - append() writes one line with one write(2) on an O_APPEND descriptor, so lines from several
//   threads stay whole; a failed write is reported on stderr, never thrown: the proxy keeps
//   deciding. When the file reaches max_size (0: never) after a line, it is renamed to PATH.1
//   (replacing one there) and a new PATH is started.
// - reopen() starts writing to whatever file is now at the path (creating it 0640).
// - The file is opened O_NOFOLLOW: a symlink planted at the path is refused, not followed.
#pragma once

#include "fd.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace cube::egress {

class AuditFile {
 public:
  AuditFile(std::string path, uint64_t max_size);  // throws Error naming the path when it cannot open it
  void append(std::string_view line);
  void reopen();
  void set_max_size(uint64_t max_size);
  const std::string& path() const { return m_path; }

 private:
  Fd open_file();
  void rotate();  // with m_mutex held
  std::string m_path;
  uint64_t m_max_size;
  std::mutex m_mutex;  // guards m_fd and m_size across reopen() and rotation
  Fd m_fd;
  uint64_t m_size = 0;
};

}  // namespace cube::egress
