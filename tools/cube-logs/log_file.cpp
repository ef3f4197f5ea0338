#include "log_file.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace cube::logs {

LogFile::LogFile(int dir_fd, std::string dir_path, std::string name, Rotation rotation)
    : m_dir_fd(dir_fd), m_dir_path(std::move(dir_path)), m_name(std::move(name)), m_rotation(rotation) {
  open_current();
}

void LogFile::open_current() {
  int fd = ::openat(m_dir_fd, m_name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw sys_error(errno, fmt::format("cannot open {}/{}", m_dir_path, m_name));
  m_fd.reset(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}/{}", m_dir_path, m_name));
  if (!S_ISREG(st.st_mode)) throw Error(Exit::failed, fmt::format("{}/{} is not a regular file", m_dir_path, m_name));
  // An existing file keeps its size; only a file we created gets our mode.
  if ((st.st_mode & 07777) != 0600 && st.st_size == 0) ::fchmod(fd, 0600);
  m_size = static_cast<uint64_t>(st.st_size);
}

void LogFile::rotate() {
  // The old file is complete on disk before its name changes, so a reader that switches to the
  // new file after the rename has missed nothing.
  sync();
  for (int k = m_rotation.max_files - 1; k >= 2; --k) {
    std::string from = fmt::format("{}.{}", m_name, k - 1), to = fmt::format("{}.{}", m_name, k);
    if (::renameat(m_dir_fd, from.c_str(), m_dir_fd, to.c_str()) != 0 && errno != ENOENT)
      throw sys_error(errno, fmt::format("cannot rotate {}/{}", m_dir_path, from));
  }
  std::string first = m_name + ".1";
  if (::renameat(m_dir_fd, m_name.c_str(), m_dir_fd, first.c_str()) != 0)
    throw sys_error(errno, fmt::format("cannot rotate {}/{}", m_dir_path, m_name));
  open_current();
  ++m_rotations;
}

void LogFile::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(m_fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot write {}/{}", m_dir_path, m_name));
    bytes.remove_prefix(static_cast<size_t>(n));
    m_size += static_cast<uint64_t>(n);
  }
}

void LogFile::append(std::string_view records) {
  if (m_rotation.max_size == 0 || m_size + records.size() <= m_rotation.max_size) return write_all(records);
  // Write as many whole records as fit, rotate, repeat.
  while (!records.empty()) {
    size_t fit = 0;
    while (fit < records.size()) {
      size_t end = records.find('\n', fit);
      end = end == std::string_view::npos ? records.size() : end + 1;
      if (m_size + end > m_rotation.max_size && (fit > 0 || m_size > 0)) break;
      fit = end;
    }
    if (fit > 0) {
      write_all(records.substr(0, fit));
      records.remove_prefix(fit);
    }
    if (!records.empty()) rotate();
  }
}

void LogFile::sync() {
  if (m_fd && ::fsync(m_fd.get()) != 0) throw sys_error(errno, fmt::format("cannot sync {}/{}", m_dir_path, m_name));
}

}  // namespace cube::logs
