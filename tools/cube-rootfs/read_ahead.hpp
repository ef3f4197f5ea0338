// cube::rootfs::ReadAhead — a ByteSource read on a second thread, a few chunks ahead.
//
// Reading a layer is a chain: the file, the digest check, the inflater, then the tar parser and the
// image writer. A ReadAhead puts a link of it on a thread of its own, so that on two cores they
// overlap instead of adding up: the inflater's output always (archive_stream.hpp), and in the
// first pass of a gzip layer the file and its digest too, ahead of the inflater (layer_scan.cpp).
//
// Contract:
// - Chunks come out in order, each valid until the next read(). An exception thrown by the inner
//   source is rethrown by read() in the caller's thread, after the chunks read before it.
// - skip() is not offered (returns 0): a stream worth seeking in is better read in place.
// - Once constructed, only the thread touches the inner source, until the destructor has stopped
//   and joined it (even mid-stream); then the caller may use the inner source again.
#pragma once

#include "archive_stream.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cube::rootfs {

class ReadAhead : public ByteSource {
 public:
  explicit ReadAhead(ByteSource& inner);
  ~ReadAhead() override;
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  size_t read(const void** data) override;

 private:
  static constexpr size_t k_depth = 4;  // chunks (about 1 MiB each) read ahead at most
  void run();
  std::string take_spare();

  ByteSource& m_inner;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<std::string> m_ready;   // read, in order
  std::vector<std::string> m_spare;  // handed out and given back: their memory is reused
  std::string m_current;             // what the last read() handed out
  bool m_end = false;                // the inner source ended (or failed)
  bool m_stop = false;               // the destructor wants the thread to stop
  std::exception_ptr m_error;
  std::thread m_thread;  // last: started once everything above exists
};

}  // namespace cube::rootfs
