#include "proxy_audit_file.hpp"

#include "error.hpp"
#include "log.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace cube::egress {

AuditFile::AuditFile(std::string path, uint64_t max_size) : m_path(std::move(path)), m_max_size(max_size) {
  m_fd = open_file();
}

Fd AuditFile::open_file() {
  Fd fd(::open(m_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!fd) throw sys_error(errno, fmt::format("cannot open the audit log {}", m_path));
  // A file that an earlier version or a hand created with wider permissions is narrowed: the log
  // names sandboxes, hosts and paths.
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0) {
    if ((st.st_mode & 07777) != 0640) ::fchmod(fd.get(), 0640);
    m_size = static_cast<uint64_t>(st.st_size);
  }
  return fd;
}

void AuditFile::append(std::string_view line) {
  std::lock_guard lock(m_mutex);
  ssize_t n = ::write(m_fd.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    log::error("cannot write the audit log {}: {}", m_path, n < 0 ? errno_text(errno) : "a short write");
    return;
  }
  m_size += line.size();
  if (m_max_size > 0 && m_size >= m_max_size) rotate();
}

void AuditFile::rotate() {
  std::string old = m_path + ".1";
  if (::rename(m_path.c_str(), old.c_str()) != 0) {
    log::error("cannot rotate the audit log {} to {}: {}", m_path, old, errno_text(errno));
    m_size = 0;  // tried again after another max_size, not after every line
    return;
  }
  try {
    m_fd = open_file();
  } catch (const Error& e) {
    log::error("{} (lines go on to {})", e.message(), old);
  }
}

void AuditFile::reopen() {
  std::lock_guard lock(m_mutex);
  m_fd = open_file();
}

void AuditFile::set_max_size(uint64_t max_size) {
  std::lock_guard lock(m_mutex);
  m_max_size = max_size;
}

}  // namespace cube::egress
