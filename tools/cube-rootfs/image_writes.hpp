// cube::rootfs::ImageWrites — file contents copied into the image file on a second thread.
//
// Why: the pass that writes the image runs on one thread, and a third of its time went to pwrite
// (copying every byte into the page cache) and to zeroing the window again, while the other core
// had nothing to do. Here the build thread fills a buffer and queues its runs; a writer thread
// writes them and zeroes the buffer for reuse.
//
// Contract:
// - space() is the zeroed room left in the current buffer, at least k_min_space bytes. The caller
//   fills a prefix of it, then queue()s that prefix's length (whole blocks) with the runs to write
//   from it; the next space() starts after it. Many small files share one buffer, so the thread is
//   woken once per buffer, not once per file.
// - A run is written only after queue(); the bytes it points to must be inside the queued prefix.
//   Runs are written in the order they were queued.
// - A failed write is reported by the next queue() or finish() on the caller's thread, as
//   Error(failed) naming the file whose run failed; nothing after it is written.
// - finish() waits until every queued run is written. The destructor stops the thread without
//   writing what is still queued (the build failed; the caller removes the image).
// - Every k_flush_every bytes written, a third thread fdatasyncs the image. Why: the fsync before
//   the rename waits for the disk to hold every byte; on a VM whose disk is a host file with a
//   write-back cache, that was one flush of the whole image at the end (~0.1 s for 250 MB, all of
//   it after the last write). Flushed as it goes, the disk works while the build does. A failed
//   flush is reported like a failed write.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cube::rootfs {

class ImageWrites {
 public:
  static constexpr size_t k_buffer = 4 << 20;
  static constexpr size_t k_min_space = 1 << 20;

  struct Run {
    const char* data;
    size_t bytes;
    uint64_t offset;  // in the image file
  };

  explicit ImageWrites(int image_fd);
  ~ImageWrites();
  ImageWrites(const ImageWrites&) = delete;
  ImageWrites& operator=(const ImageWrites&) = delete;

  std::span<char> space();
  // `used`: how much of space() was filled (a multiple of the block size); `where` names the file
  // in errors.
  void queue(size_t used, const std::vector<Run>& runs, const std::string& where);
  void finish();

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<char, Free>;
  static Buffer zeroed_buffer();

  struct Batch {
    Buffer buf;
    size_t used = 0;
    std::vector<Run> runs;
    std::vector<std::pair<size_t, std::string>> files;  // the first run of each file, and its name
  };
  static constexpr size_t k_buffers = 3;
  static constexpr uint64_t k_flush_every = 32 << 20;

  void run();
  void flush_loop();
  void note_written(uint64_t bytes);
  void write_batch(Batch& b);
  // Hands the current batch to the thread; with need_next, waits for a free buffer to fill next.
  void submit(bool need_next);
  void rethrow_locked();

  int m_fd;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  Batch m_current;
  std::deque<Batch> m_queued;  // for the thread, in order
  std::vector<Buffer> m_free;
  bool m_busy = false;  // the thread holds a batch
  bool m_stop = false;
  std::exception_ptr m_error;
  uint64_t m_unflushed = 0;     // written since the last flush was asked for (the writer's own)
  bool m_flush_wanted = false;  // under m_mutex, like the rest
  std::condition_variable m_flush_changed;
  std::thread m_flusher;
  std::thread m_thread;  // last: started once everything above exists
};

}  // namespace cube::rootfs
