#include "chain.hpp"

#include "chunk.hpp"
#include "cri.hpp"
#include "error.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
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

std::vector<Segment> open_segments(int dir_fd, const std::string& dir_path, const std::string& name, int highest,
                                   std::vector<int>* gaps) {
  std::vector<Segment> out;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  std::vector<int> missing;
  // Rotation only moves a file to a higher number, and the names are tried upwards, so a file
  // moving during the walk is met again (and skipped as seen), never missed. While it runs one
  // rotated name is missing for a moment, so a single missing name never ends the walk.
  bool missed = false;
  for (int k = 0; k <= k_max_rotated; ++k) {
    std::string file = k == 0 ? name : fmt::format("{}.{}", name, k);
    std::string path = dir_path + "/" + file;
    Fd fd = open_log_file(dir_fd, dir_path, file);
    if (!fd && errno == ENOENT) {
      if (k == 0 || (missed && k > highest)) break;
      missed = true;
      missing.push_back(k);
      continue;
    }
    missed = false;
    if (!fd)
      throw Error(Exit::failed, fmt::format("refusing to read {}", path), errno_text(errno),
                  errno == ELOOP || errno == EXDEV ? "log paths may not contain symbolic links or leave the root" : "");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, fmt::format("cannot stat {}", path));
    if (gaps) gaps->insert(gaps->end(), missing.begin(), missing.end());
    missing.clear();
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    out.push_back(Segment{std::move(fd), path, static_cast<uint64_t>(st.st_size), st.st_dev, st.st_ino});
  }
  return out;
}

namespace {

// The highest N of the `name.N` files in the directory (0 when none).
int highest_rotated(int dir_fd, const std::string& name) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
  if (!dir) {
    ::close(fd);
    return 0;
  }
  int highest = 0;
  std::string prefix = name + ".";
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view n(e->d_name);
    if (!n.starts_with(prefix)) continue;
    n.remove_prefix(prefix.size());
    int k = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), k);
    if (ec == std::errc() && p == n.data() + n.size() && n[0] != '0' && k <= k_max_rotated)
      highest = std::max(highest, k);
  }
  return highest;
}

// Where the last line of `s` starts when it has no newline, or s.size when it ends in one.
uint64_t unfinished_start(const Segment& s) {
  if (s.size == 0) return 0;
  char buf[64 * 1024];
  uint64_t from = s.size - std::min<uint64_t>(sizeof buf, s.size);
  ssize_t got = ::pread(s.fd.get(), buf, static_cast<size_t>(s.size - from), static_cast<off_t>(from));
  if (got <= 0 || buf[got - 1] == '\n') return s.size;
  const void* nl = memrchr(buf, '\n', static_cast<size_t>(got));
  return nl ? from + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1 : from;
}

// A CRI record, or the start of one: the shape this writer's records have.
bool looks_like_record(const Segment& s, uint64_t at) {
  char buf[64] = {};
  ssize_t got = ::pread(s.fd.get(), buf, sizeof buf, static_cast<off_t>(at));
  std::string_view head(buf, got > 0 ? static_cast<size_t>(got) : 0);
  head = head.substr(0, head.find('\n'));
  cri::Fields f;
  return cri::split(head, f) || (head.size() < 40 && head.size() >= 4 && head.substr(0, 2) == "20" &&
                                 head.find_first_not_of("0123456789-:.TZ ") >= 4);
}

// The line before `at` (which starts a line) in `s`, when there is one that is a CRI record.
bool record_before(const Segment& s, uint64_t at) {
  if (at == 0) return false;
  char buf[cri::k_max_text + 128];
  uint64_t from = at - std::min<uint64_t>(sizeof buf, at);
  ssize_t got = ::pread(s.fd.get(), buf, static_cast<size_t>(at - from), static_cast<off_t>(from));
  if (got <= 1) return false;
  const void* nl = memrchr(buf, '\n', static_cast<size_t>(got - 1));
  uint64_t start = nl ? from + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1 : from;
  return (nl || from == 0) && looks_like_record(s, start);
}

// Cuts a torn last record off `s` (see the header), noting it in `problems`.
void drop_torn_record(Segment& s, bool current, std::vector<std::string>& problems) {
  uint64_t start = unfinished_start(s);
  if (start == s.size || !(looks_like_record(s, start) || record_before(s, start))) return;
  if (current) {
    ::usleep(20'000);  // a writer mid-write finishes within a moment
    struct stat st {};
    if (::fstat(s.fd.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) != s.size) {
      s.size = start;
      return;
    }
  }
  problems.push_back(
      fmt::format("{} ends in a record cut short ({} bytes without a newline, from a write that "
                  "failed, as on a full disk); it is not printed",
                  s.path, s.size - start));
  s.size = start;
}

}  // namespace

Chain open_chain(int dir_fd, const std::string& dir_path, const std::string& name, const std::string& why) {
  std::vector<Segment> segments;
  std::vector<int> gaps;
  // A rotation moving the files up leaves a gap for a moment: look again before believing one.
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) ::usleep(25'000);
    gaps.clear();
    segments = open_segments(dir_fd, dir_path, name, highest_rotated(dir_fd, name), &gaps);
    if (gaps.empty() || segments.empty()) break;
  }
  if (segments.empty()) throw Error(Exit::not_found, fmt::format("log file not found: {}/{}", dir_path, name), why);
  Chain chain;
  for (int k : gaps)
    chain.add_problem(
        fmt::format("{}/{}.{} is missing between older and newer files (a rotation was cut short, "
                    "or the file was removed): lines may be missing there",
                    dir_path, name, k));
  for (size_t i = 0; i < segments.size(); ++i) {
    std::vector<std::string> torn;
    drop_torn_record(segments[i], i == 0, torn);
    for (auto& t : torn) chain.add_problem(std::move(t));
  }
  for (auto& s : segments) chain.add_oldest(std::move(s));
  return chain;
}

}  // namespace cube::logs
