// cube::rootfs byte sources and the tar reader over them.
//
// Contract:
// - ByteSource hands out chunks of a blob: a range of a file, the current entry of an outer tar
//   (a docker-archive's layer), or standard input. Chunks stay valid until the next read.
// - Verifier wraps a source, hashes and counts every byte, and check() compares with the
//   descriptor: a mismatch throws Error(usage) naming the blob. While verifying it never skips.
// - TarReader reads one (optionally gzip/zstd-compressed) tar stream with libarchive and turns
//   each header into an Entry; data is read in blocks with their offsets (sparse files) or skipped.
//   Gzip is inflated by an Inflater in front of libarchive (inflater.hpp says why).
#pragma once

#include "layer_tree.hpp"

#include "fd.hpp"
#include "sha256.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cube::rootfs {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Next chunk; 0 at the end. Throws on I/O errors.
  virtual size_t read(const void** data) = 0;
  // Skips up to n bytes without reading them; returns how many were skipped (0: cannot skip).
  virtual int64_t skip(int64_t) { return 0; }
};

// `length` bytes of an open file from `offset` (length < 0: to the end).
class FileSource : public ByteSource {
 public:
  FileSource(Fd fd, std::string name, int64_t offset = 0, int64_t length = -1);
  size_t read(const void** data) override;
  int64_t skip(int64_t n) override;

 private:
  Fd m_fd;
  std::string m_name;
  int64_t m_pos;
  int64_t m_end;  // -1: to EOF
  bool m_seekable;
  std::vector<char> m_buf;
};

struct Expect {
  std::string digest;  // "sha256:<hex>"; empty: nothing to compare, only hash
  int64_t size = -1;   // -1: unknown
};

class Verifier : public ByteSource {
 public:
  Verifier(ByteSource& inner, std::string name, Expect expect, uint64_t max_bytes);
  size_t read(const void** data) override;
  // Reads what the tar reader left (padding after the end marker), then compares.
  void finish();
  const std::string& digest() const { return m_digest; }
  uint64_t bytes() const { return m_bytes; }

 private:
  ByteSource& m_inner;
  std::string m_name;
  Expect m_expect;
  uint64_t m_max;
  uint64_t m_bytes = 0;
  Sha256 m_sha;
  std::string m_digest;
};

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

struct DataBlock {
  const void* data = nullptr;
  size_t size = 0;
  int64_t offset = 0;  // within the file: a gap before it is a hole
};

class Inflater;
class LayerSpool;
class ReadAhead;

// How a TarReader's stream will be read: `skim` may seek over data (the headers-only pass over a
// plain layer), `whole` reads every byte (the pass that writes data, through a Verifier). A stream
// read whole, or inflated, is read ahead on a second thread (read_ahead.hpp).
enum class Reading { skim, whole };

class TarReader {
 public:
  // `name` names the stream in errors ("layer 2 (sha256:ab12…)"). An inflated stream is written
  // down through `spool` as it is read, when one is given (layer_spool.hpp).
  TarReader(ByteSource& source, std::string name, Reading reading = Reading::skim, LayerSpool* spool = nullptr);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Next header into `e`; false at the end of the archive.
  bool next(Entry& e);
  // Next block of the current entry's data; false at its end.
  bool block(DataBlock& b);
  void skip_data();
  const std::string& name() const { return m_name; }
  // "<stream>: entry N \"path\"" for error messages.
  std::string where() const;
  uint64_t entry_index() const { return m_index; }

 private:
  [[noreturn]] void fail(std::string_view doing) const;
  static la_ssize_t read_cb(archive*, void* self, const void** buf);
  static la_int64_t skip_cb(archive*, void* self, la_int64_t n);

  std::string m_name;
  std::unique_ptr<Inflater> m_input;
  std::unique_ptr<ReadAhead> m_ahead;  // when the stream is read ahead
  ByteSource* m_feed;                  // what libarchive reads: the spool, m_ahead or m_input
  ArchivePtr m_a;
  uint64_t m_index = 0;  // entries read so far
  std::string m_path;
  std::exception_ptr m_error;  // thrown inside a callback, rethrown once libarchive returns
};

// "<stream>: entry N \"path\"" (N counted from 1), or the stream alone before its first entry.
std::string entry_where(std::string_view stream, uint64_t index, std::string_view path);

// Stands in for an outer archive's current entry as a byte source (docker-archive layers).
class EntrySource : public ByteSource {
 public:
  explicit EntrySource(TarReader& outer) : m_outer(outer) {}
  size_t read(const void** data) override;

 private:
  TarReader& m_outer;
  int64_t m_pos = 0;
};

}  // namespace cube::rootfs
