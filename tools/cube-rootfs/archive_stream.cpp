#include "archive_stream.hpp"

#include "error.hpp"
#include "inflater.hpp"
#include "layer_spool.hpp"
#include "log.hpp"
#include "read_ahead.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cube::rootfs {
namespace {

constexpr size_t k_chunk = 1 << 20;
constexpr size_t k_max_xattr_value = 4000;  // what fits next to an ext4 inode or in one 4 KiB block

Kind kind_of(mode_t type) {
  switch (type) {
    case AE_IFREG: return Kind::regular;
    case AE_IFDIR: return Kind::directory;
    case AE_IFLNK: return Kind::symlink;
    case AE_IFCHR: return Kind::chardev;
    case AE_IFBLK: return Kind::blockdev;
    case AE_IFIFO: return Kind::fifo;
    case AE_IFSOCK: return Kind::socket;
  }
  return Kind::regular;
}

const char* entry_path(archive_entry* ae) {
  const char* p = archive_entry_pathname(ae);
  return p ? p : archive_entry_pathname_utf8(ae);
}

}  // namespace

FileSource::FileSource(Fd fd, std::string name, int64_t offset, int64_t length)
    : m_fd(std::move(fd)), m_name(std::move(name)), m_pos(offset), m_end(length < 0 ? -1 : offset + length) {
  struct stat st {};
  m_seekable = fstat(m_fd.get(), &st) == 0 && S_ISREG(st.st_mode);
  if (!m_seekable && offset != 0) throw Error(Exit::failed, fmt::format("{}: cannot seek in a pipe", m_name));
  m_buf.resize(k_chunk);
}

size_t FileSource::read(const void** data) {
  size_t want = m_buf.size();
  if (m_end >= 0) want = static_cast<size_t>(std::min<int64_t>(want, m_end - m_pos));
  if (want == 0) return 0;
  ssize_t n;
  do {
    n = m_seekable ? ::pread(m_fd.get(), m_buf.data(), want, m_pos) : ::read(m_fd.get(), m_buf.data(), want);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw sys_error(errno, "reading " + m_name);
  if (n == 0 && m_end >= 0)
    throw Error(Exit::usage, fmt::format("{}: ends after {} bytes", m_name, m_pos), "the file is truncated");
  m_pos += n;
  *data = m_buf.data();
  return static_cast<size_t>(n);
}

int64_t FileSource::skip(int64_t n) {
  if (!m_seekable) return 0;
  if (m_end >= 0) n = std::min(n, m_end - m_pos);
  m_pos += n;
  return n;
}

Verifier::Verifier(ByteSource& inner, std::string name, Expect expect, uint64_t max_bytes)
    : m_inner(inner), m_name(std::move(name)), m_expect(std::move(expect)), m_max(max_bytes) {}

size_t Verifier::read(const void** data) {
  size_t n = m_inner.read(data);
  m_bytes += n;
  if (m_expect.size >= 0 && m_bytes > static_cast<uint64_t>(m_expect.size))
    throw Error(Exit::usage, fmt::format("{}: more than the {} bytes its descriptor gives", m_name, m_expect.size),
                "the blob does not match its descriptor");
  if (m_bytes > m_max)
    throw Error(Exit::usage, fmt::format("{}: larger than {} bytes", m_name, m_max), "the limit for one blob");
  m_sha.update(*data, n);
  return n;
}

void Verifier::finish() {
  const void* d;
  while (read(&d) > 0) {
  }
  m_digest = "sha256:" + m_sha.hex();
  if (m_expect.size >= 0 && m_bytes != static_cast<uint64_t>(m_expect.size))
    throw Error(Exit::usage, fmt::format("{}: {} bytes, its descriptor says {}", m_name, m_bytes, m_expect.size),
                "the blob is truncated or does not match its descriptor");
  if (!m_expect.digest.empty() && m_digest != m_expect.digest)
    throw Error(Exit::usage, fmt::format("{}: content digest is {}", m_name, m_digest),
                "the blob does not match its descriptor; the image is corrupt or was tampered with");
}

TarReader::TarReader(ByteSource& source, std::string name, Reading reading, LayerSpool* spool)
    : m_name(std::move(name)), m_input(std::make_unique<Inflater>(source, m_name)), m_feed(m_input.get()) {
  m_input->prepare();
  if (reading == Reading::whole || m_input->inflating()) {
    m_ahead = std::make_unique<ReadAhead>(*m_input);
    m_feed = m_ahead.get();
  }
  if (spool && m_input->inflating()) {
    // Written down on this thread, not the read-ahead one: inflating a layer's one gzip stream is
    // the longest chain of the first pass, and nothing else should lengthen it.
    spool->attach(*m_feed);
    m_feed = spool;
  }
  m_a.reset(archive_read_new());
  if (!m_a) throw Error(Exit::failed, "cannot allocate a libarchive reader");
  archive_read_support_filter_zstd(m_a.get());
  archive_read_support_format_tar(m_a.get());
  archive_read_set_read_callback(m_a.get(), read_cb);
  archive_read_set_skip_callback(m_a.get(), skip_cb);
  archive_read_set_callback_data(m_a.get(), this);
  if (archive_read_open1(m_a.get()) != ARCHIVE_OK) fail("opening");
}

TarReader::~TarReader() = default;

la_ssize_t TarReader::read_cb(archive*, void* self, const void** buf) {
  auto* r = static_cast<TarReader*>(self);
  try {
    return static_cast<la_ssize_t>(r->m_feed->read(buf));
  } catch (...) {
    r->m_error = std::current_exception();
    return -1;
  }
}

la_int64_t TarReader::skip_cb(archive*, void* self, la_int64_t n) {
  auto* r = static_cast<TarReader*>(self);
  try {
    return r->m_feed->skip(n);
  } catch (...) {
    r->m_error = std::current_exception();
    return -1;
  }
}

void TarReader::fail(std::string_view doing) const {
  if (m_error) std::rethrow_exception(m_error);
  const char* msg = archive_error_string(m_a.get());
  throw Error(Exit::usage, fmt::format("{}: {} failed", where(), doing), msg ? msg : "not a valid tar stream");
}

std::string entry_where(std::string_view stream, uint64_t index, std::string_view path) {
  if (index == 0) return std::string(stream);
  return fmt::format("{}: entry {} \"{:.200}\"", stream, index, path);
}

std::string TarReader::where() const { return entry_where(m_name, m_index, m_path); }

namespace {

// What a sparse entry's map says its data covers (libarchive reads the map with the header); the
// holes are the rest of its size.
void sparse_extent(archive_entry* ae, Entry& e) {
  e.data_bytes = e.size;
  e.data_blocks = (e.size + 4095) / 4096;
  if (e.size == 0 || archive_entry_sparse_reset(ae) == 0) return;
  e.sparse = true;
  e.data_bytes = e.data_blocks = 0;
  la_int64_t off = 0, len = 0;
  while (archive_entry_sparse_next(ae, &off, &len) == ARCHIVE_OK) {
    if (off < 0 || len <= 0) continue;
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(off) + static_cast<uint64_t>(len), e.size);
    if (end <= static_cast<uint64_t>(off)) continue;
    e.data_bytes += end - static_cast<uint64_t>(off);
    e.data_blocks += (end + 4095) / 4096 - static_cast<uint64_t>(off) / 4096;
  }
  e.data_blocks = std::min(e.data_blocks, (e.size + 4095) / 4096);
}

}  // namespace

bool TarReader::next(Entry& e) {
  archive_entry* ae = nullptr;
  int r = archive_read_next_header(m_a.get(), &ae);
  if (r == ARCHIVE_EOF) return false;
  if (r < ARCHIVE_WARN) fail(m_index == 0 ? "reading the first header" : "reading the next header");
  ++m_index;
  const char* path = entry_path(ae);
  m_path = path ? path : "";
  if (r == ARCHIVE_WARN) log::debug("{}: {}", where(), archive_error_string(m_a.get()));
  if (!path) throw Error(Exit::usage, fmt::format("{}: entry without a path", where()));

  e = Entry{};
  e.path = m_path;
  const char* hardlink = archive_entry_hardlink(ae);
  if (hardlink) {
    e.is_hardlink = true;
    e.link = hardlink;
  }
  e.kind = kind_of(archive_entry_filetype(ae));
  if (e.kind == Kind::symlink) {
    const char* t = archive_entry_symlink(ae);
    e.link = t ? t : "";
  }
  e.mode = archive_entry_perm(ae) & 07777;
  int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
  if (uid < 0 || gid < 0 || uid > 0xFFFFFFFFLL || gid > 0xFFFFFFFFLL)
    throw Error(Exit::usage, fmt::format("{}: owner {}:{} is out of range", where(), uid, gid));
  e.uid = static_cast<uint32_t>(uid);
  e.gid = static_cast<uint32_t>(gid);
  e.mtime_sec = archive_entry_mtime(ae);
  e.mtime_nsec = static_cast<uint32_t>(archive_entry_mtime_nsec(ae));
  int64_t size = archive_entry_size(ae);
  e.size = size > 0 && e.kind == Kind::regular && !hardlink ? static_cast<uint64_t>(size) : 0;
  sparse_extent(ae, e);
  e.rdev_major = archive_entry_rdevmajor(ae);
  e.rdev_minor = archive_entry_rdevminor(ae);
  archive_entry_xattr_reset(ae);
  const char* xname;
  const void* xvalue;
  size_t xsize;
  while (archive_entry_xattr_next(ae, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
    if (xsize > k_max_xattr_value || std::strlen(xname) > 255)
      throw Error(Exit::usage, fmt::format("{}: extended attribute \"{:.60}\" has {} bytes", where(), xname, xsize),
                  fmt::format("ext4 holds at most {} bytes per value here", k_max_xattr_value));
    e.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xvalue), xsize));
  }
  std::sort(e.xattrs.begin(), e.xattrs.end());
  return true;
}

bool TarReader::block(DataBlock& b) {
  la_int64_t offset = 0;
  int r = archive_read_data_block(m_a.get(), &b.data, &b.size, &offset);
  if (r == ARCHIVE_EOF) return false;
  if (r < ARCHIVE_WARN) fail("reading data");
  b.offset = offset;
  return true;
}

void TarReader::skip_data() {
  if (archive_read_data_skip(m_a.get()) < ARCHIVE_WARN) fail("skipping data");
}

size_t EntrySource::read(const void** data) {
  DataBlock b;
  if (!m_outer.block(b)) return 0;
  if (b.offset != m_pos)
    throw Error(Exit::usage, fmt::format("{}: a sparse layer entry in a docker-archive", m_outer.where()));
  m_pos += static_cast<int64_t>(b.size);
  *data = b.data;
  return b.size;
}

}  // namespace cube::rootfs
