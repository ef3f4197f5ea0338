// cube::tap closer — closes TAP fds on a thread of its own. The last close of a TAP fd detaches
// the device's queue, and the kernel waits out an RCU grace period for it (milliseconds on a busy
// node): done inline, that would stall every request queued behind it.
#pragma once

#include "fd.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace cube::tap {

class Closer {
 public:
  Closer();
  ~Closer();  // closes what is queued, then joins
  Closer(const Closer&) = delete;
  Closer& operator=(const Closer&) = delete;

  void close(Fd fd);
  // Returns once every fd queued so far is closed: a TAP can be attached again only then.
  void flush();

 private:
  void run();

  std::mutex m_lock;
  std::condition_variable m_wake, m_idle;
  std::deque<Fd> m_queue;
  bool m_busy = false, m_stop = false;
  std::thread m_thread;
};

}  // namespace cube::tap
