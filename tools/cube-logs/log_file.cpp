#include "log_file.hpp"

#include "cri.hpp"
#include "error.hpp"
#include "log.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace cube::logs {
namespace {

// Rotated names beyond this are not looked at (the reader's bound too).
constexpr int k_max_rotated = 1000;

}  // namespace

LogFile::LogFile(int dir_fd, std::string dir_path, std::string name, Rotation rotation)
    : m_dir_fd(dir_fd), m_dir_path(std::move(dir_path)), m_name(std::move(name)), m_rotation(rotation) {
  close_gaps();
  open_current();
}

void LogFile::close_gaps() {
  int next = 1;  // the lowest rotated number not yet taken
  for (int k = 1; k <= k_max_rotated; ++k) {
    std::string from = fmt::format("{}.{}", m_name, k);
    struct stat st {};
    if (::fstatat(m_dir_fd, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (k != next) {
      std::string to = fmt::format("{}.{}", m_name, next);
      // RENAME_NOREPLACE: `to` is free (every lower name is taken in order), and must stay so.
      if (::renameat2(m_dir_fd, from.c_str(), m_dir_fd, to.c_str(), RENAME_NOREPLACE) != 0)
        throw sys_error(errno, fmt::format("cannot rename {}/{} to {}", m_dir_path, from, to));
      log::warn("{}/{} was missing (a rotation was cut short): {} renamed to it", m_dir_path, to, from);
    }
    ++next;
  }
}

// The time of the record that ends at `size`, when it is a CRI record; also notes a torn tail.
void LogFile::drop_torn_tail(int fd, uint64_t& size) {
  if (size == 0) return;
  char buf[cri::k_max_text + 128];
  uint64_t from = size - std::min<uint64_t>(sizeof buf, size);
  ssize_t got = ::pread(fd, buf, static_cast<size_t>(size - from), static_cast<off_t>(from));
  if (got <= 0) return;
  std::string_view data(buf, static_cast<size_t>(got));
  if (data.back() != '\n') {
    size_t nl = data.rfind('\n');
    uint64_t keep = nl == std::string_view::npos ? from : from + nl + 1;
    if (nl == std::string_view::npos && from > 0) return;  // a line longer than we look at: not ours
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0)
      throw sys_error(errno, fmt::format("cannot truncate {}/{}", m_dir_path, m_name));
    log::warn("{}/{} ended in a record cut short ({} bytes without a newline): removed", m_dir_path, m_name,
              size - keep);
    data = data.substr(0, static_cast<size_t>(keep - from));
    size = keep;
  }
  if (data.empty()) return;
  data.remove_suffix(1);
  size_t nl = data.rfind('\n');
  std::string_view last = nl == std::string_view::npos ? data : data.substr(nl + 1);
  int64_t t = 0;
  if (cri::parse_time(last, t)) m_last_time_ns = std::max(m_last_time_ns, t);
}

void LogFile::open_current() {
  int fd = ::openat(m_dir_fd, m_name.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw sys_error(errno, fmt::format("cannot open {}/{}", m_dir_path, m_name));
  m_fd.reset(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}/{}", m_dir_path, m_name));
  if (!S_ISREG(st.st_mode)) throw Error(Exit::failed, fmt::format("{}/{} is not a regular file", m_dir_path, m_name));
  // An existing file keeps its size; only a file we created gets our mode.
  if ((st.st_mode & 07777) != 0600 && st.st_size == 0) ::fchmod(fd, 0600);
  m_size = static_cast<uint64_t>(st.st_size);
  drop_torn_tail(fd, m_size);
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
  uint64_t whole = m_size;  // the end of the last whole record written
  for (std::string_view rest = bytes; !rest.empty();) {
    ssize_t n = ::write(m_fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      // Leave whole records only: a torn one would read as a line that was never written.
      if (::ftruncate(m_fd.get(), static_cast<off_t>(whole)) == 0) m_size = whole;
      throw sys_error(err, fmt::format("cannot write {}/{}", m_dir_path, m_name));
    }
    std::string_view done = rest.substr(0, static_cast<size_t>(n));
    if (size_t nl = done.rfind('\n'); nl != std::string_view::npos) whole = m_size + nl + 1;
    rest.remove_prefix(static_cast<size_t>(n));
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
