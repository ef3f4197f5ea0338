#include "closer.hpp"

#include <signal.h>

#include <functional>

namespace cube::tap {

namespace {

// Starts a thread that takes no signals: serve waits for SIGTERM on a signalfd, which only works
// while no thread of the process would take the signal itself (and die of it).
std::thread signal_free_thread(std::function<void()> body) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  std::thread t(std::move(body));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

}  // namespace

Closer::Closer() : m_thread(signal_free_thread([this] { run(); })) {}

Closer::~Closer() {
  {
    std::lock_guard g(m_lock);
    m_stop = true;
  }
  m_wake.notify_one();
  m_thread.join();
}

void Closer::close(Fd fd) {
  if (!fd) return;
  {
    std::lock_guard g(m_lock);
    m_queue.push_back(std::move(fd));
  }
  m_wake.notify_one();
}

void Closer::flush() {
  std::unique_lock g(m_lock);
  m_idle.wait(g, [this] { return m_queue.empty() && !m_busy; });
}

void Closer::run() {
  std::unique_lock g(m_lock);
  for (;;) {
    m_wake.wait(g, [this] { return m_stop || !m_queue.empty(); });
    if (m_queue.empty()) return;  // stopping, and nothing left
    Fd fd = std::move(m_queue.front());
    m_queue.pop_front();
    m_busy = true;
    g.unlock();
    fd.reset();
    g.lock();
    m_busy = false;
    if (m_queue.empty()) m_idle.notify_all();
  }
}

}  // namespace cube::tap
