#include "ext4_writer.hpp"

#include "dir_blocks.hpp"
#include "error.hpp"
#include "ext2_errors.hpp"
#include "fs.hpp"
#include "image_writes.hpp"
#include "sha256.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cube::rootfs {
namespace {

constexpr unsigned k_block = 4096;
constexpr unsigned k_inode_size = 256;
constexpr uint64_t k_bytes_per_inode = 16384;

void random_bytes(void* buf, size_t n) {
  if (getrandom(buf, n, 0) != static_cast<ssize_t>(n)) throw sys_error(errno, "reading random bytes");
}

int file_type(Kind k) {
  switch (k) {
    case Kind::regular: return EXT2_FT_REG_FILE;
    case Kind::directory: return EXT2_FT_DIR;
    case Kind::symlink: return EXT2_FT_SYMLINK;
    case Kind::chardev: return EXT2_FT_CHRDEV;
    case Kind::blockdev: return EXT2_FT_BLKDEV;
    case Kind::fifo: return EXT2_FT_FIFO;
    case Kind::socket: return EXT2_FT_SOCK;
  }
  return EXT2_FT_UNKNOWN;
}

uint16_t type_bits(Kind k) {
  switch (k) {
    case Kind::regular: return LINUX_S_IFREG;
    case Kind::directory: return LINUX_S_IFDIR;
    case Kind::symlink: return LINUX_S_IFLNK;
    case Kind::chardev: return LINUX_S_IFCHR;
    case Kind::blockdev: return LINUX_S_IFBLK;
    case Kind::fifo: return LINUX_S_IFIFO;
    case Kind::socket: return LINUX_S_IFSOCK;
  }
  return 0;
}

// ext4 keeps the low 32 bits of the seconds and two epoch bits plus nanoseconds in the _extra word.
void set_time(uint32_t& base, uint32_t& extra, int64_t sec, uint32_t nsec) {
  base = static_cast<uint32_t>(sec);
  uint32_t epoch = static_cast<uint32_t>((sec - static_cast<int32_t>(sec)) >> 32) & EXT4_EPOCH_MASK;
  extra = epoch | (nsec << EXT4_EPOCH_BITS);
}

bool all_zero(const char* p, size_t n) { return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0); }

// Streams one regular file's bytes into the image. Bytes gather in a window of whole blocks (room
// in an ImageWrites buffer); each run of non-zero blocks in it is allocated with ext2fs_fallocate
// (initialised extents, placed after the previous run) and queued to be written to the image file
// on the writer thread. Gaps in the source and all-zero blocks stay holes, as mke2fs -d leaves them.
// The logical content (holes read as zeros) is hashed on the way.
class ContentSink {
 public:
  // `hash` false: the caller knows the content's hash already, and finish() returns "".
  ContentSink(ext2_filsys fs, ImageWrites& writes, ext2_ino_t ino, uint64_t size, std::string where, bool hash = true)
      : m_fs(fs), m_writes(writes), m_window(writes.space()), m_ino(ino), m_where(std::move(where)), m_hash(hash) {
    errcode_t err = ext2fs_read_inode(fs, ino, &m_inode);
    if (!err) err = ext2fs_inode_size_set(fs, &m_inode, size);
    if (err) raise(err, "reading the inode");
    m_size = size;
  }
  // Abandoned by an error: the room it filled goes back zeroed, as the next file expects it.
  ~ContentSink() { std::memset(m_window.data(), 0, m_used); }
  ContentSink(const ContentSink&) = delete;
  ContentSink& operator=(const ContentSink&) = delete;
  void put(const char* data, size_t size, uint64_t offset) {
    if (offset < m_pos || offset + size > m_size)
      throw Error(Exit::usage, fmt::format("{}: data at offset {} is outside the file", m_where, offset));
    hash_zeros(offset - m_pos);
    if (m_hash) m_sha.update(data, size);
    m_pos = offset;
    while (size > 0) {
      if (m_pos >= m_base + m_window.size() || m_pos < m_base) {
        flush();
        m_base = m_pos - m_pos % k_block;
      }
      size_t n = std::min<uint64_t>(size, m_base + m_window.size() - m_pos);
      std::memcpy(m_window.data() + (m_pos - m_base), data, n);
      m_used = std::max<uint64_t>(m_used, m_pos - m_base + n);
      data += n;
      size -= n;
      m_pos += n;
    }
  }
  std::string finish() {
    hash_zeros(m_size - m_pos);
    flush();
    errcode_t err = ext2fs_write_inode(m_fs, m_ino, &m_inode);
    if (err) raise(err, "writing the inode");
    return m_hash ? m_sha.hex() : std::string();
  }

 private:
  // The window came zeroed, so the blocks past m_used are zeros already.
  void flush() {
    if (m_used == 0) return;
    size_t blocks = (m_used + k_block - 1) / k_block;
    m_runs.clear();
    for (size_t b = 0; b < blocks;) {
      if (all_zero(m_window.data() + b * k_block, k_block)) {
        ++b;
        continue;
      }
      size_t e = b + 1;
      while (e < blocks && !all_zero(m_window.data() + e * k_block, k_block)) ++e;
      allocate_run(m_base / k_block + b, e - b, m_window.data() + b * k_block);
      b = e;
    }
    m_writes.queue(blocks * k_block, m_runs, m_where);
    m_window = m_writes.space();
    m_used = 0;
  }
  void allocate_run(blk64_t lblk, blk64_t len, const char* data) {
    errcode_t err = ext2fs_fallocate(m_fs, EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_INIT_BEYOND_EOF, m_ino, &m_inode,
                                     m_goal, lblk, len);
    if (err) raise(err, "allocating blocks");
    // Usually one contiguous piece; when the free space is fragmented, written piece by piece.
    for (blk64_t done = 0; done < len;) {
      blk64_t p0 = 0, n = 1;
      err = ext2fs_bmap2(m_fs, m_ino, &m_inode, nullptr, 0, lblk + done, nullptr, &p0);
      if (!err) {
        blk64_t last = 0;
        err = ext2fs_bmap2(m_fs, m_ino, &m_inode, nullptr, 0, lblk + len - 1, nullptr, &last);
        if (!err && last == p0 + (len - done) - 1) n = len - done;
      }
      if (err || p0 == 0) raise(err ? err : EXT2_ET_BLOCK_ALLOC_FAIL, "mapping blocks");
      m_runs.push_back({data + done * k_block, n * k_block, p0 * k_block});
      done += n;
      m_goal = p0 + n;
    }
  }
  void hash_zeros(uint64_t n) {
    static const char zeros[64 * 1024] = {};
    while (m_hash && n > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof zeros));
      m_sha.update(zeros, k);
      n -= k;
    }
  }
  [[noreturn]] void raise(errcode_t err, std::string_view doing) {
    std::string hint = err == EXT2_ET_BLOCK_ALLOC_FAIL ? "the image is full; give a larger --size or --headroom" : "";
    throw Error(Exit::failed, fmt::format("{}: {} while {}", m_where, ext2_error_text(err), doing), "", hint);
  }

  ext2_filsys m_fs;
  ImageWrites& m_writes;
  std::span<char> m_window;
  std::vector<ImageWrites::Run> m_runs;  // of the window being flushed
  ext2_ino_t m_ino;
  ext2_inode m_inode{};
  std::string m_where;
  bool m_hash;
  Sha256 m_sha;
  uint64_t m_size = 0, m_pos = 0, m_base = 0, m_used = 0;
  blk64_t m_goal = ~0ULL;
};

}  // namespace

Ext4Writer::Ext4Writer(std::string path, const FsParams& params) : m_path(std::move(path)) {
  init_ext2_errors();
  // An empty file may be there already: the part its caller holds (part_file.hpp).
  Fd fd(::open(m_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) throw sys_error(errno, "creating " + m_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, "reading " + m_path);
  if (!S_ISREG(st.st_mode) || st.st_size != 0)
    throw Error(Exit::failed, fmt::format("{} is not a new, empty file", m_path), "the image is written into one");
  if (::ftruncate(fd.get(), static_cast<off_t>(params.bytes)) != 0)
    throw sys_error(errno, "sizing " + m_path + fmt::format(" to {} bytes", params.bytes));
  init_fs(params);
  // File contents bypass libext2fs's block cache: they go to freshly allocated blocks it never reads.
  m_image_fd = std::move(fd);
  m_writes = std::make_unique<ImageWrites>(m_image_fd.get());
}

Ext4Writer::~Ext4Writer() {
  if (m_fs && !m_closed) ext2fs_free(m_fs);  // a failed build: the caller removes the file
}

void Ext4Writer::check(errcode_t err, std::string_view doing, std::string_view where) const {
  if (!err) return;
  std::string hint =
      err == EXT2_ET_BLOCK_ALLOC_FAIL || err == EXT2_ET_INODE_ALLOC_FAIL || err == EXT2_ET_DIR_NO_SPACE_FOR_CSUM
          ? "the image is full; give a larger --size or --headroom"
          : "";
  throw Error(Exit::failed, fmt::format("{}: {} while {}", where.empty() ? m_path : where, ext2_error_text(err), doing),
              "", hint);
}

void Ext4Writer::init_fs(const FsParams& params) {
  struct ext2_super_block param {};
  uint64_t blocks = params.bytes / k_block;
  ext2fs_blocks_count_set(&param, blocks);
  param.s_log_block_size = 2;  // 1024 << 2
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = k_inode_size;
  uint64_t inodes = params.inodes ? params.inodes : params.bytes / k_bytes_per_inode;
  param.s_inodes_count = static_cast<uint32_t>(std::min<uint64_t>(inodes, 0xFFFFFFF0u));
  param.s_log_groups_per_flex = 4;
  param.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
  param.s_min_extra_isize = param.s_want_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  ext2fs_set_feature_xattr(&param);
  ext2fs_set_feature_dir_index(&param);
  ext2fs_set_feature_filetype(&param);
  ext2fs_set_feature_extents(&param);
  ext2fs_set_feature_64bit(&param);
  ext2fs_set_feature_flex_bg(&param);
  ext2fs_set_feature_sparse_super(&param);
  ext2fs_set_feature_large_file(&param);
  ext2fs_set_feature_huge_file(&param);
  ext2fs_set_feature_dir_nlink(&param);
  ext2fs_set_feature_extra_isize(&param);
  ext2fs_set_feature_metadata_csum(&param);
  check(ext2fs_initialize(m_path.c_str(), EXT2_FLAG_64BITS, &param, unix_io_manager, &m_fs), "initialising", "");

  ext2_super_block* sb = m_fs->super;
  random_bytes(sb->s_uuid, sizeof sb->s_uuid);
  sb->s_uuid[6] = (sb->s_uuid[6] & 0x0F) | 0x40;  // a version 4 UUID
  sb->s_uuid[8] = (sb->s_uuid[8] & 0x3F) | 0x80;
  random_bytes(sb->s_hash_seed, sizeof sb->s_hash_seed);
  sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
  sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
  sb->s_max_mnt_count = -1;
  ext2fs_init_csum_seed(m_fs);
  check(ext2fs_allocate_tables(m_fs), "allocating group tables", "");
  // The file is new and sparse, so its inode tables already read as zeros.
  for (dgrp_t g = 0; g < m_fs->group_desc_count; ++g) {
    ext2fs_bg_flags_set(m_fs, g, EXT2_BG_INODE_ZEROED);
    ext2fs_group_desc_csum_set(m_fs, g);
  }
  check(ext2fs_mkdir(m_fs, EXT2_ROOT_INO, EXT2_ROOT_INO, nullptr), "creating the root directory", "");
  check(ext2fs_mkdir(m_fs, EXT2_ROOT_INO, 0, "lost+found"), "creating lost+found", "");
  check(ext2fs_lookup(m_fs, EXT2_ROOT_INO, "lost+found", 10, nullptr, &m_lost_found), "finding lost+found", "");
  // Its 16 KiB of room are written with its entries (write_dir_node), in case the image has its own.
  write_dir(m_fs, m_lost_found, layout_dir(m_fs, m_lost_found, EXT2_ROOT_INO, {}, 16384 / m_fs->blocksize),
            "/lost+found");
  for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(m_fs->super); ++i)
    ext2fs_inode_alloc_stats2(m_fs, i, +1, 0);
  ext2fs_mark_ib_dirty(m_fs);
  ext2fs_mark_inode_bitmap2(m_fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(m_fs, EXT2_BAD_INO, +1, 0);
  check(ext2fs_update_bb_inode(m_fs, nullptr), "writing the bad block inode", "");
  ext2fs_journal_params jp{};
  check(ext2fs_get_journal_params(&jp, m_fs), "sizing the journal", "");
  if (params.journal_blocks) jp.num_journal_blocks = params.journal_blocks;
  jp.num_fc_blocks = 0;
  check(ext2fs_add_journal_inode3(m_fs, &jp, ~0ULL, EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK),
        "creating the journal", "");
}

uint64_t Ext4Writer::free_blocks() const { return ext2fs_free_blocks_count(m_fs->super); }
uint64_t Ext4Writer::total_blocks() const { return ext2fs_blocks_count(m_fs->super); }

void Ext4Writer::set_meta(ext2_ino_t ino, const Inode& i, bool set_links, std::string_view where) {
  ext2_inode_large inode{};
  check(ext2fs_read_inode_full(m_fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode), "reading the inode",
        where);
  inode.i_mode = static_cast<uint16_t>(type_bits(i.kind) | (i.mode & 07777));
  inode.i_uid = static_cast<uint16_t>(i.uid);
  ext2fs_set_i_uid_high(inode, static_cast<uint16_t>(i.uid >> 16));
  inode.i_gid = static_cast<uint16_t>(i.gid);
  ext2fs_set_i_gid_high(inode, static_cast<uint16_t>(i.gid >> 16));
  if (set_links) inode.i_links_count = static_cast<uint16_t>(i.nlink);
  if (inode.i_extra_isize < 24) inode.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  set_time(inode.i_mtime, inode.i_mtime_extra, i.mtime_sec, i.mtime_nsec);
  set_time(inode.i_atime, inode.i_atime_extra, i.mtime_sec, i.mtime_nsec);
  set_time(inode.i_ctime, inode.i_ctime_extra, i.mtime_sec, i.mtime_nsec);
  set_time(inode.i_crtime, inode.i_crtime_extra, i.mtime_sec, i.mtime_nsec);
  check(ext2fs_write_inode_full(m_fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode), "writing the inode",
        where);
}

void Ext4Writer::set_xattrs(ext2_ino_t ino, const Inode& i, std::string_view where) {
  if (i.xattrs.empty()) return;
  ext2_xattr_handle* h = nullptr;
  check(ext2fs_xattrs_open(m_fs, ino, &h), "opening extended attributes", where);
  std::unique_ptr<ext2_xattr_handle, void (*)(ext2_xattr_handle*)> owner(
      h, [](ext2_xattr_handle* p) { ext2fs_xattrs_close(&p); });
  check(ext2fs_xattrs_read(h), "reading extended attributes", where);
  for (const auto& [name, value] : i.xattrs)
    check(ext2fs_xattr_set(h, name.c_str(), value.data(), value.size()),
          fmt::format("setting extended attribute {}", name), where);
  ext2_xattr_handle* raw = owner.release();
  check(ext2fs_xattrs_close(&raw), "writing extended attributes", where);
}

// A new inode for `node`, not yet named in any directory (its parent's blocks are written whole
// once all its children exist).
ext2_ino_t Ext4Writer::make_inode(Node& node, ext2_ino_t parent) {
  std::string where = node_path(node);
  const Inode& i = *node.inode;
  bool is_dir = i.kind == Kind::directory;
  ext2_ino_t ino = 0;
  check(ext2fs_new_inode(m_fs, parent, type_bits(i.kind) | (i.mode & 07777), nullptr, &ino), "allocating an inode",
        where);
  if (i.kind == Kind::symlink) {
    check(ext2fs_symlink(m_fs, parent, ino, nullptr, i.target.c_str()), "creating the symlink", where);
    return ino;
  }
  ext2fs_inode_alloc_stats2(m_fs, ino, +1, is_dir ? 1 : 0);
  ext2_inode_large inode{};
  inode.i_mode = static_cast<uint16_t>(type_bits(i.kind) | (i.mode & 07777));
  inode.i_links_count = 1;
  inode.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  if (i.kind == Kind::chardev || i.kind == Kind::blockdev) {
    if (i.rdev_major < 256 && i.rdev_minor < 256) {
      inode.i_block[0] = i.rdev_major * 256 + i.rdev_minor;
    } else {
      inode.i_block[1] = (i.rdev_minor & 0xff) | (i.rdev_major << 8) | ((i.rdev_minor & ~0xffu) << 12);
    }
  } else if (i.kind == Kind::regular || is_dir) {
    ext2_extent_handle_t eh = nullptr;
    check(ext2fs_extent_open2(m_fs, ino, reinterpret_cast<ext2_inode*>(&inode), &eh), "setting up extents", where);
    ext2fs_extent_free(eh);
  }
  check(ext2fs_write_inode_full(m_fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode), "writing the inode",
        where);
  return ino;
}

// Writes `dir`'s block and returns its subdirectories still to write; write_tree() works through them
// from a list, never recursively, so a deep tree cannot exhaust the stack.
std::vector<Node*> Ext4Writer::write_dir_node(Node& dir, ext2_ino_t self, ext2_ino_t parent) {
  std::string where = node_path(dir);
  std::vector<DirEntry> entries;
  std::vector<Node*> subdirs;
  bool own_lnf = false;
  for (auto& [name, child] : dir.children) {
    Inode& i = *child->inode;
    if (i.ino == 0) {
      bool is_lnf = self == EXT2_ROOT_INO && name == "lost+found";
      if (is_lnf && i.kind != Kind::directory)
        throw Error(Exit::usage, "the image has a /lost+found that is not a directory", "ext4 needs that name");
      i.ino = is_lnf ? m_lost_found : make_inode(*child, self);
      own_lnf = own_lnf || is_lnf;
      set_meta(i.ino, i, true, node_path(*child));
      set_xattrs(i.ino, i, node_path(*child));
      if (i.kind == Kind::directory) subdirs.push_back(child.get());
    }
    entries.push_back({name, i.ino, file_type(i.kind)});
  }
  if (self == EXT2_ROOT_INO && !own_lnf) entries.push_back({"lost+found", m_lost_found, EXT2_FT_DIR});
  // e2fsck wants lost+found to keep room without allocating: 16 KiB, as mke2fs leaves it.
  size_t min_blocks = self == m_lost_found ? 16384 / m_fs->blocksize : 1;
  write_dir(m_fs, self, layout_dir(m_fs, self, parent, entries, min_blocks), where);
  return subdirs;
}

void Ext4Writer::write_tree(Node& root) {
  Inode& r = *root.inode;
  r.ino = EXT2_ROOT_INO;
  auto lnf = root.children.find("lost+found");
  bool tree_has_lnf = lnf != root.children.end() && lnf->second->inode->kind == Kind::directory;
  Inode meta = r;
  meta.nlink = r.nlink + (tree_has_lnf ? 0 : 1);  // our own lost+found is a subdirectory too
  set_meta(EXT2_ROOT_INO, meta, true, "/");
  set_xattrs(EXT2_ROOT_INO, r, "/");
  std::vector<Node*> todo = write_dir_node(root, EXT2_ROOT_INO, EXT2_ROOT_INO);
  while (!todo.empty()) {
    Node* d = todo.back();
    todo.pop_back();
    for (Node* sub : write_dir_node(*d, d->inode->ino, d->parent->inode->ino)) todo.push_back(sub);
  }
}

void Ext4Writer::write_content(Inode& inode, TarReader& reader) {
  bool hashed = !inode.sha256.empty();
  ContentSink sink(m_fs, *m_writes, inode.ino, inode.size, reader.where(), !hashed);
  DataBlock b;
  while (reader.block(b)) sink.put(static_cast<const char*>(b.data), b.size, static_cast<uint64_t>(b.offset));
  if (!inode.append.empty()) sink.put(inode.append.data(), inode.append.size(), inode.size - inode.append.size());
  std::string sha = sink.finish();
  if (!hashed) inode.sha256 = std::move(sha);
}

void Ext4Writer::write_outside(Inode& inode) {
  if (inode.has_inline) {
    ContentSink sink(m_fs, *m_writes, inode.ino, inode.inline_data.size(), "inline content");
    sink.put(inode.inline_data.data(), inode.inline_data.size(), 0);
    inode.sha256 = sink.finish();
    return;
  }
  Fd fd = fs::open_regular(inode.src_path);  // a FIFO put there since it was checked would never end
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, "reading " + inode.src_path);
  inode.size = static_cast<uint64_t>(st.st_size);
  ContentSink sink(m_fs, *m_writes, inode.ino, inode.size, inode.src_path);
  std::vector<char> buf(1 << 20);
  uint64_t off = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, "reading " + inode.src_path);
    if (n == 0) break;
    sink.put(buf.data(), static_cast<size_t>(n), off);
    off += static_cast<uint64_t>(n);
  }
  inode.sha256 = sink.finish();
}

void Ext4Writer::close() {
  m_writes->finish();
  errcode_t err = ext2fs_close2(m_fs, 0);
  m_closed = true;
  if (err) {
    ext2fs_free(m_fs);
    m_fs = nullptr;
    check(err, "writing the file system metadata", "");
  }
  m_fs = nullptr;
}

}  // namespace cube::rootfs
