#include "read_ahead.hpp"

namespace cube::rootfs {

ReadAhead::ReadAhead(ByteSource& inner) : m_inner(inner), m_thread([this] { run(); }) {}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_changed.notify_all();
  m_thread.join();
}

std::string ReadAhead::take_spare() {
  std::string buf;
  if (!m_spare.empty()) {
    buf.swap(m_spare.back());
    m_spare.pop_back();
  }
  return buf;
}

void ReadAhead::run() {
  try {
    for (;;) {
      std::string buf;
      {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_stop || m_ready.size() < k_depth; });
        if (m_stop) return;
        buf = take_spare();
      }
      const void* data = nullptr;
      size_t n = m_inner.read(&data);
      buf.assign(static_cast<const char*>(data), n);
      {
        std::lock_guard lock(m_mutex);
        if (n == 0)
          m_end = true;
        else
          m_ready.push_back(std::move(buf));
      }
      m_changed.notify_all();
      if (n == 0) return;
    }
  } catch (...) {
    {
      std::lock_guard lock(m_mutex);
      m_error = std::current_exception();
      m_end = true;
    }
    m_changed.notify_all();
  }
}

size_t ReadAhead::read(const void** data) {
  std::unique_lock lock(m_mutex);
  if (!m_current.empty()) {
    m_spare.emplace_back();
    m_spare.back().swap(m_current);
  }
  m_changed.wait(lock, [&] { return !m_ready.empty() || m_end; });
  if (m_ready.empty()) {
    if (m_error) std::rethrow_exception(m_error);
    return 0;
  }
  m_current.swap(m_ready.front());
  m_ready.pop_front();
  lock.unlock();
  m_changed.notify_all();
  *data = m_current.data();
  return m_current.size();
}

}  // namespace cube::rootfs
