// cube::rootfs::LayerSpool — a gzip layer's inflated bytes kept on disk by the first pass, so the
// second pass reads plain tar instead of inflating the layer again.
//
// Why: the first pass must read a compressed layer whole (an inflated stream cannot be seeked), and
// the second reads it whole again; inflating twice made a gzip build cost about 1.8 times one
// decompression. Writing the inflated stream to the page cache once costs far less than inflating
// it again, and the second pass can then seek over the data it does not need.
//
// Contract:
// - The spool is an O_TMPFILE in `dir` (the build's work directory, or the artifact's own): it has
//   no name and goes with its last descriptor, on every way out, kill -9 included. A directory
//   whose file system has no O_TMPFILE (NFS, FUSE) gets no spool: the layer is inflated twice.
// - SpoolBudget bounds the bytes all spools of a build may hold: a quarter of the directory's free
//   space when the build starts. A layer that would pass it, or whose write fails (ENOSPC), is
//   dropped and read again from its blob in the second pass.
// - As a ByteSource it passes the inner source's chunks through unchanged, writing each one down;
//   only the first pass reads it, and only through a TarReader (archive_stream.hpp) that puts it
//   after the inflater's read-ahead thread, on the thread that parses the tar.
#pragma once

#include "archive_stream.hpp"

#include "fd.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace cube::rootfs {

// Shared by the layers read at once (layer_scan.hpp): `dir` is fixed when it is made, `left`
// is taken and given back atomically.
struct SpoolBudget {
  std::string dir;                // "" (none given, or no O_TMPFILE there): no spools
  std::atomic<uint64_t> left{0};  // bytes the spools may still take
  static SpoolBudget for_dir(const std::string& dir);
  bool take(uint64_t n);
  void give_back(uint64_t n) { left += n; }
};

class LayerSpool : public ByteSource {
 public:
  LayerSpool(SpoolBudget& budget, std::string name);
  // Where the chunks come from: set by the TarReader once it knows the stream is inflated.
  void attach(ByteSource& inner) { m_inner = &inner; }
  size_t read(const void** data) override;
  // The whole inflated stream the tar reader consumed is on disk.
  bool usable() const { return m_fd && m_inner && !m_dropped; }
  // The spooled tar stream, read from the start (seekable); only when usable().
  std::unique_ptr<FileSource> reopen() const;
  uint64_t bytes() const { return m_bytes; }

 private:
  void drop();

  SpoolBudget& m_budget;
  std::string m_name;
  Fd m_fd;
  ByteSource* m_inner = nullptr;
  uint64_t m_bytes = 0;
  bool m_dropped = false;
};

}  // namespace cube::rootfs
