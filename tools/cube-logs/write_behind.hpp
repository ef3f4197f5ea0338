// cube::logs::WriteBehind — writes the forwarder's records to its log files from a thread of its
// own, so that reading and framing the next input overlap the kernel's copy of the last batch into
// the page cache. That copy is most of a busy forwarder's time (perf: about half of it, against a
// sixth for framing), and one thread doing both left the second core to the container alone.
//
// Contract:
// - Records reach each file in the order append() was called, whole (LogFile rotates between
//   records as before).
// - A small batch while nothing is queued is written at once, on the caller's thread: a chatty
//   container with a slow trickle pays no thread hand-off, and the thread is started only when
//   the first large batch arrives.
// - At most `max_queued` bytes wait in the queue, or one larger batch alone; append() blocks while
//   the queue is full, so memory stays bounded whatever the input rate.
// - When no thread can be started (a pids limit), every batch is written on the caller's thread.
// - flush() returns once everything appended is written. A write error on the thread is thrown
//   by the next append() or flush(), and nothing queued after it is written.
// - The destructor writes what is queued (unless a write failed) and joins the thread.
// - One thread calls append() and flush() (the forwarder's loop). The LogFiles are touched by one
//   thread at a time: the writer while anything is queued, the caller only while nothing is.
#pragma once

#include "log_file.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cube::logs {

class WriteBehind {
 public:
  explicit WriteBehind(size_t max_queued = 8 << 20, size_t write_now_below = 64 << 10)
      : m_max_queued(max_queued), m_write_now_below(write_now_below) {}
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;
  ~WriteBehind();

  // Writes or queues `records` (whole records) for `file`. Takes the bytes: `records` comes back
  // empty, holding a spare buffer's capacity so the caller's next batch does not allocate.
  void append(LogFile& file, std::string& records);
  void flush();

 private:
  struct Job {
    LogFile* file;
    std::string records;
  };
  void run();
  // True when the writer thread runs, started now if need be; false when the system refuses one.
  bool writer_locked();
  void rethrow_locked();

  const size_t m_max_queued, m_write_now_below;
  std::mutex m_mutex;
  std::condition_variable m_work, m_room;
  std::deque<Job> m_queue;
  std::vector<std::string> m_spare;
  size_t m_queued = 0;  // bytes appended and not yet written, the one being written included
  bool m_stop = false;
  bool m_no_thread = false;
  std::exception_ptr m_error;
  std::thread m_thread;
};

}  // namespace cube::logs
