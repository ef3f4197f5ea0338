#include "image_writes.hpp"

#include "error.hpp"
#include "heap.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace cube::rootfs {
namespace {

void pwrite_all(int fd, const char* p, size_t n, uint64_t off, const std::string& where) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw sys_error(errno, where + ": writing data to the image");
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
}

}  // namespace

// calloc maps a buffer this large afresh and leaves it untouched (it reads as zeros); one madvise
// then faults it in, where zeroing it would fault each of its pages on its own (on a VM with
// shadowed page tables, 3,000 faults were some 60 ms).
ImageWrites::Buffer ImageWrites::zeroed_buffer() {
  Buffer b(static_cast<char*>(std::calloc(1, k_buffer)));
  if (!b) throw std::bad_alloc();
  heap::populate(b.get(), k_buffer);
  return b;
}

ImageWrites::ImageWrites(int image_fd) : m_fd(image_fd) {
  m_current.buf = zeroed_buffer();
  for (size_t i = 1; i < k_buffers; ++i) m_free.push_back(zeroed_buffer());
  m_flusher = std::thread([this] { flush_loop(); });
  m_thread = std::thread([this] { run(); });
}

ImageWrites::~ImageWrites() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_changed.notify_all();
  m_flush_changed.notify_all();
  m_thread.join();
  m_flusher.join();
}

std::span<char> ImageWrites::space() { return {m_current.buf.get() + m_current.used, k_buffer - m_current.used}; }

void ImageWrites::queue(size_t used, const std::vector<Run>& runs, const std::string& where) {
  if (runs.empty()) return;  // nothing but zeros was put there: the room is still zeroed
  m_current.files.emplace_back(m_current.runs.size(), where);
  m_current.runs.insert(m_current.runs.end(), runs.begin(), runs.end());
  m_current.used += used;
  if (k_buffer - m_current.used < k_min_space) submit(true);
}

void ImageWrites::finish() {
  if (!m_current.runs.empty()) submit(false);
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [&] { return (m_queued.empty() && !m_busy) || m_error; });
  rethrow_locked();
  if (!m_current.buf) {  // more may still be queued after this
    m_current.buf = std::move(m_free.back());
    m_free.pop_back();
  }
}

void ImageWrites::submit(bool need_next) {
  std::unique_lock lock(m_mutex);
  rethrow_locked();
  m_queued.push_back(std::move(m_current));
  m_current = Batch{};
  if (need_next) {
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return !m_free.empty() || m_error; });
    rethrow_locked();
    m_current.buf = std::move(m_free.back());
    m_free.pop_back();
  }
  lock.unlock();
  m_changed.notify_all();
}

void ImageWrites::rethrow_locked() {
  if (m_error) std::rethrow_exception(m_error);
}

void ImageWrites::write_batch(Batch& b) {
  uint64_t lo = UINT64_MAX, hi = 0;
  size_t file = 0;
  for (size_t i = 0; i < b.runs.size(); ++i) {
    while (file + 1 < b.files.size() && b.files[file + 1].first <= i) ++file;
    const Run& r = b.runs[i];
    pwrite_all(m_fd, r.data, r.bytes, r.offset, b.files[file].second);
    lo = std::min(lo, r.offset);
    hi = std::max(hi, r.offset + r.bytes);
  }
  // The image is fsync'ed before it is renamed into place; starting its writeback now lets the
  // disk work while the build does, instead of all of it waiting for that fsync. Advisory: an
  // error here is the fsync's to report.
  if (hi > lo) ::sync_file_range(m_fd, static_cast<off_t>(lo), static_cast<off_t>(hi - lo), SYNC_FILE_RANGE_WRITE);
  std::memset(b.buf.get(), 0, b.used);
  if (hi > lo) note_written(hi - lo);
}

void ImageWrites::note_written(uint64_t bytes) {
  m_unflushed += bytes;
  if (m_unflushed < k_flush_every) return;
  m_unflushed = 0;
  {
    std::lock_guard lock(m_mutex);
    m_flush_wanted = true;
  }
  m_flush_changed.notify_one();
}

void ImageWrites::flush_loop() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_flush_changed.wait(lock, [&] { return m_stop || m_flush_wanted; });
    if (m_stop) return;
    m_flush_wanted = false;
    lock.unlock();
    int r;
    do r = ::fdatasync(m_fd);
    while (r != 0 && errno == EINTR);
    int err = errno;
    lock.lock();
    if (r != 0 && !m_error) m_error = std::make_exception_ptr(sys_error(err, "flushing the image to its disk"));
    if (r != 0) m_changed.notify_all();
  }
}

void ImageWrites::run() {
  for (;;) {
    Batch b;
    {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [&] { return m_stop || !m_queued.empty(); });
      if (m_stop) return;
      b = std::move(m_queued.front());
      m_queued.pop_front();
      m_busy = true;
    }
    std::exception_ptr error;
    try {
      write_batch(b);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(m_mutex);
      m_busy = false;
      if (error) m_error = error;
      m_free.push_back(std::move(b.buf));
    }
    m_changed.notify_all();
    if (error) return;
  }
}

}  // namespace cube::rootfs
