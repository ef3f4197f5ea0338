#include "chain.hpp"

#include "chunk.hpp"
#include "error.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

namespace cube::logs {

size_t read_block(uint64_t bytes) { return chunk_size(bytes, 8 * 1024, 1024 * 1024); }

namespace {

// Rotated files beyond this many are not looked for: a bound on the opens, not on the data.
constexpr int k_max_rotated = 1000;

}  // namespace

Fd open_log_file(int dir_fd, const std::string& dir_path, const std::string& name) {
  Fd fd = fs::open_beneath(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return fd;
  std::string path = dir_path + "/" + name;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}", path));
  if (!S_ISREG(st.st_mode))
    throw Error(Exit::failed, fmt::format("refusing to read {}", path), "it is not a regular file",
                "a log file is always a regular file; something else was put in its place");
  if (st.st_nlink != 1)
    throw Error(Exit::failed, fmt::format("refusing to read {}", path),
                fmt::format("it has {} hard links", st.st_nlink),
                "a log file has exactly one; a hard link may alias a file outside the log directory");
  return fd;
}

void Chain::add_oldest(Segment s) {
  m_segments.insert(m_segments.begin(), std::move(s));
  m_starts.assign(m_segments.size(), 0);
  m_size = 0;
  for (size_t i = 0; i < m_segments.size(); ++i) {
    m_starts[i] = m_size;
    m_size += m_segments[i].size;
  }
}

size_t Chain::read(uint64_t at, char* buf, size_t len) const {
  size_t got = 0;
  auto it = std::upper_bound(m_starts.begin(), m_starts.end(), at);
  size_t k = it == m_starts.begin() ? 0 : static_cast<size_t>(it - m_starts.begin() - 1);
  while (got < len && k < m_segments.size()) {
    const Segment& s = m_segments[k];
    uint64_t off = at + got - m_starts[k];
    if (off >= s.size) {
      ++k;
      continue;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(len - got, s.size - off));
    ssize_t n = ::pread(s.fd.get(), buf + got, want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", s.path));
    if (n == 0) {  // the file shrank under us (copytruncate): what is gone is gone
      ++k;
      continue;
    }
    got += static_cast<size_t>(n);
  }
  return got;
}

std::vector<Segment> open_segments(int dir_fd, const std::string& dir_path, const std::string& name) {
  std::vector<Segment> out;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  // Rotation only moves a file to a higher number, and the names are tried upwards, so a file
  // moving during the walk is met again (and skipped as seen), never missed. It moves them one at
  // a time, the oldest first, so while it runs one rotated name is missing: a single missing name
  // is stepped over, and only two in a row (or a missing `name`) end the walk.
  bool missed = false;
  for (int k = 0; k <= k_max_rotated; ++k) {
    std::string file = k == 0 ? name : fmt::format("{}.{}", name, k);
    std::string path = dir_path + "/" + file;
    Fd fd = open_log_file(dir_fd, dir_path, file);
    if (!fd && errno == ENOENT) {
      if (k == 0 || missed) break;
      missed = true;
      continue;
    }
    missed = false;
    if (!fd)
      throw Error(Exit::failed, fmt::format("refusing to read {}", path), errno_text(errno),
                  errno == ELOOP || errno == EXDEV ? "log paths may not contain symbolic links or leave the root" : "");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}", path));
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    out.push_back(Segment{std::move(fd), path, static_cast<uint64_t>(st.st_size), st.st_dev, st.st_ino});
  }
  return out;
}

Chain open_chain(int dir_fd, const std::string& dir_path, const std::string& name, const std::string& why) {
  std::vector<Segment> segments = open_segments(dir_fd, dir_path, name);
  if (segments.empty()) throw Error(Exit::not_found, fmt::format("log file not found: {}/{}", dir_path, name), why);
  Chain chain;
  for (auto& s : segments) chain.add_oldest(std::move(s));
  return chain;
}

}  // namespace cube::logs
