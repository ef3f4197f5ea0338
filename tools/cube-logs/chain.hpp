// cube::logs::Chain — one stream's log files (the rotated ones and the current one), opened safely
// and read as one byte sequence, oldest byte first.
//
// Contract:
// - open_chain() opens `<name>` and then `<name>.1`, `<name>.2`, … beneath `dir_fd` with
//   fs::open_beneath (no symlink anywhere, no `..`), O_NONBLOCK so a planted FIFO cannot block, and
//   requires each to be a regular file with one link (a hard link could alias a file outside the log
//   directory). A file that refuses any of this is an Error naming it; a missing `<name>` is
//   Error(not_found). A rotated file seen twice (a rotation between two opens) is used once.
// - Gaps: open_chain lists the directory, so it knows the highest rotated number there and walks
//   up to it; a rotated name missing below a present one is a gap. A rotation in progress makes
//   one for a moment, so the files are opened again (a few times, briefly apart) before a gap is
//   believed; one that stays is kept in problems() (a forwarder killed mid-rotation leaves one
//   until it starts again; a deleted file leaves one for good), and the chain reads on past it.
// - Torn records: a file whose last line has no newline and is (or follows) a CRI record ends in a
//   record cut short — a write that failed half way, on a full disk. It is not part of the chain
//   (so it is never printed, and never glued to the next file's first line); a problem names it.
//   In the current file the writer may be mid-write: if the file grows within a moment the
//   unfinished record is simply left to --follow, with no problem.
// - Sizes are taken once at open: the chain is a snapshot; --follow reads what comes after it.
// - Offsets are global: segment k's bytes come after segments 0…k-1. A rotation always ends a file
//   at a record boundary, so records never span segments.
#pragma once

#include "fd.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cube::logs {

// A read buffer left uninitialised: only the pages a read touches cost anything, so a large
// buffer is free for a small read (the reader's start-up matters for `--tail 10`).
class Buffer {
 public:
  explicit Buffer(size_t size) : m_data(new char[size]), m_size(size) {}
  char* data() { return m_data.get(); }
  const char* data() const { return m_data.get(); }
  size_t size() const { return m_size; }

 private:
  std::unique_ptr<char[]> m_data;
  size_t m_size;
};

// How large a read buffer to use for `bytes` of reading: chunk_size between 8 KiB and 1 MiB.
size_t read_block(uint64_t bytes);

struct Segment {
  Fd fd;
  std::string path;
  uint64_t size = 0;
  uint64_t dev = 0, ino = 0;
};

class Chain {
 public:
  uint64_t size() const { return m_size; }
  bool empty() const { return m_segments.empty(); }
  // The newest file (the one writers append to); the chain must not be empty.
  const Segment& current() const { return m_segments.back(); }
  // Reads up to `len` bytes at global offset `at`, crossing segments; short only at the end.
  size_t read(uint64_t at, char* buf, size_t len) const;

  void add_oldest(Segment s);
  // What may be missing: gaps and torn records, one sentence each (see above).
  const std::vector<std::string>& problems() const { return m_problems; }
  void add_problem(std::string text) { m_problems.push_back(std::move(text)); }

 private:
  std::vector<std::string> m_problems;
  std::vector<Segment> m_segments;  // oldest first
  std::vector<uint64_t> m_starts;   // global offset of each segment
  uint64_t m_size = 0;
};

// Opens one stream's files beneath `dir_fd` (shown to users as `dir_path`).
// `why` explains a missing file in the not-found error.
Chain open_chain(int dir_fd, const std::string& dir_path, const std::string& name, const std::string& why);
// The same files, newest first, each once; empty when `name` itself is missing. The walk goes at
// least up to `highest` (a listing's) and stops at two missing names in a row above it; each
// number it stepped over below a file it found is added to `gaps` when given.
std::vector<Segment> open_segments(int dir_fd, const std::string& dir_path, const std::string& name, int highest = 0,
                                   std::vector<int>* gaps = nullptr);
// Opens `name` beneath `dir_fd` as a log file with the checks above; an invalid Fd with errno set
// (ENOENT, ELOOP, EXDEV…) or an Error for a file of the wrong kind.
Fd open_log_file(int dir_fd, const std::string& dir_path, const std::string& name);

}  // namespace cube::logs
