#include "write_behind.hpp"

#include <system_error>

namespace cube::logs {

WriteBehind::~WriteBehind() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_work.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

void WriteBehind::rethrow_locked() {
  if (m_error) std::rethrow_exception(m_error);
}

void WriteBehind::append(LogFile& file, std::string& records) {
  std::unique_lock lock(m_mutex);
  rethrow_locked();
  // Written here when nothing is queued or being written (so the writer does not touch the files
  // now, and this batch follows everything before it) and the batch is small or no writer thread
  // can be had.
  if (m_queued == 0 && (records.size() < m_write_now_below || !writer_locked())) {
    lock.unlock();
    file.append(records);
    records.clear();
    return;
  }
  m_room.wait(lock, [&] { return m_error || m_queued == 0 || m_queued + records.size() <= m_max_queued; });
  rethrow_locked();
  m_queued += records.size();
  m_queue.push_back({&file, std::move(records)});
  records.clear();
  if (!m_spare.empty()) {
    records.swap(m_spare.back());
    m_spare.pop_back();
  }
  lock.unlock();
  m_work.notify_one();
}

bool WriteBehind::writer_locked() {
  if (m_thread.joinable()) return true;
  if (m_no_thread) return false;
  try {
    m_thread = std::thread([this] { run(); });  // it waits for the lock the caller holds
    return true;
  } catch (const std::system_error&) {
    m_no_thread = true;  // a pids limit, say; not tried again for every batch
    return false;
  }
}

void WriteBehind::flush() {
  std::unique_lock lock(m_mutex);
  m_room.wait(lock, [&] { return m_error || m_queued == 0; });
  rethrow_locked();
}

void WriteBehind::run() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_work.wait(lock, [&] { return m_stop || !m_queue.empty(); });
    if (m_queue.empty() || m_error) return;
    Job& job = m_queue.front();
    lock.unlock();
    std::exception_ptr error;
    try {
      job.file->append(job.records);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    m_queued -= job.records.size();
    job.records.clear();
    m_spare.push_back(std::move(job.records));
    m_queue.pop_front();
    if (error) m_error = error;
    m_room.notify_one();
  }
}

}  // namespace cube::logs
