// cube::logs::Follower — `--follow`: print what is appended to a stream's current file, through
// rotations, until stdout closes or the tool is signalled.
//
// Contract:
// - Starts at the end of the snapshot the first print used, so no line is printed twice.
// - Woken by inotify on the log directory (created by watch() before the seccomp filter is loaded)
//   and, as a safety net, once a second.
// - Rename rotation (`stdout` → `stdout.1`, a new `stdout`): the old file is read to its end, then
//   every file rotated after it, oldest first, then the new current file — so a reader that wakes
//   late after several rotations still prints each line once. A file rotated away entirely
//   (more rotations than --max-files while we slept) is reported with a warning.
// - copytruncate (the file shrinks, or the bytes before our offset change): read again from 0.
#pragma once

#include "fd.hpp"
#include "printer.hpp"

#include <string>
#include <vector>

namespace cube::logs {

class Follower {
 public:
  Follower(int dir_fd, std::string dir_path, Style style);
  // Starts following `name` (stdout or stderr) at the end of `chain`.
  void add(const std::string& name, const Chain& chain);
  // Loops until the output is closed (output::StdoutClosed propagates) or an error.
  void run();

 private:
  struct Tail {
    std::string name;
    Fd fd;
    std::string path;
    uint64_t ino = 0;
    uint64_t pos = 0;
    std::string carry;        // an unfinished record at the end of the file
    std::string before;       // the bytes just before pos, to notice copytruncate
    bool mid_record = false;  // pieces of the current record were printed already
    Decoder decoder;
  };
  // Prints what is new; with `names_changed` (a create/rename/delete event, or the timer) also
  // looks for a rotation, which costs opens a plain append does not need.
  void catch_up(Tail& t, bool names_changed);
  // Prints what was appended since the last read; false when the file was truncated (nothing
  // printed then).
  bool read_to_end(Tail& t);
  void split_lines(Tail& t, std::string_view data);
  void end_of_file(Tail& t);
  void next_file(Tail& t);
  void emit(Tail& t, std::string_view data, bool last, bool newline);

  int m_dir_fd;
  std::string m_dir_path;
  Style m_style;
  Fd m_inotify;
  std::vector<Tail> m_tails;
  Buffer m_buf;
};

}  // namespace cube::logs
