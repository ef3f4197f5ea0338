#include "dir_blocks.hpp"

#include "error.hpp"
#include "ext2_errors.hpp"

#include <fmt/format.h>

#include <cstring>

namespace cube::rootfs {
namespace {

size_t rec_size(size_t name_len) { return (8 + name_len + 3) & ~size_t(3); }

void check(errcode_t err, std::string_view doing, const std::string& where) {
  if (err)
    throw Error(Exit::failed, fmt::format("{}: {} while {}", where, ext2_error_text(err), doing), "",
                err == EXT2_ET_BLOCK_ALLOC_FAIL ? "the image is full; give a larger --size or --headroom" : "");
}

class Packer {
 public:
  Packer(ext2_filsys fs) : m_fs(fs), m_bs(fs->blocksize), m_csum(ext2fs_has_feature_metadata_csum(fs->super)) {}

  void add(const std::string& name, ext2_ino_t ino, int type) {
    size_t need = rec_size(name.size());
    if (m_blocks.empty() || m_used + need > payload()) close_block();
    char* b = m_blocks.back().data();
    auto* d = reinterpret_cast<ext2_dir_entry*>(b + m_used);
    d->inode = ino;
    ext2fs_set_rec_len(m_fs, static_cast<unsigned>(need), d);
    ext2fs_dirent_set_name_len(d, static_cast<int>(name.size()));
    ext2fs_dirent_set_file_type(d, type);
    std::memcpy(d->name, name.data(), name.size());
    m_last = m_used;
    m_used += need;
  }

  std::vector<std::string> finish(size_t min_blocks) {
    close_block();
    m_blocks.pop_back();  // close_block opened a fresh one
    while (m_blocks.size() < min_blocks) {
      new_block();
      auto* d = reinterpret_cast<ext2_dir_entry*>(m_blocks.back().data());
      d->inode = 0;
      m_used = payload();
      m_last = 0;
      ext2fs_set_rec_len(m_fs, static_cast<unsigned>(payload()), d);
      add_tail();
    }
    return std::move(m_blocks);
  }

 private:
  size_t payload() const { return m_bs - (m_csum ? sizeof(ext2_dir_entry_tail) : 0); }

  void new_block() {
    m_blocks.emplace_back(m_bs, '\0');
    m_used = 0;
  }
  void add_tail() {
    if (m_csum) ext2fs_initialize_dirent_tail(m_fs, EXT2_DIRENT_TAIL(m_blocks.back().data(), m_bs));
  }
  // The last entry of a block stretches to the end of its payload.
  void close_block() {
    if (!m_blocks.empty()) {
      auto* d = reinterpret_cast<ext2_dir_entry*>(m_blocks.back().data() + m_last);
      ext2fs_set_rec_len(m_fs, static_cast<unsigned>(payload() - m_last), d);
      add_tail();
    }
    new_block();
  }

  ext2_filsys m_fs;
  size_t m_bs;
  bool m_csum;
  std::vector<std::string> m_blocks;
  size_t m_used = 0, m_last = 0;
};

}  // namespace

std::vector<std::string> layout_dir(ext2_filsys fs, ext2_ino_t self, ext2_ino_t parent,
                                    const std::vector<DirEntry>& entries, size_t min_blocks) {
  Packer p(fs);
  p.add(".", self, EXT2_FT_DIR);
  p.add("..", parent, EXT2_FT_DIR);
  for (const auto& e : entries) p.add(e.name, e.ino, e.type);
  return p.finish(min_blocks);
}

void write_dir(ext2_filsys fs, ext2_ino_t dir, const std::vector<std::string>& blocks, const std::string& where) {
  ext2_inode inode;
  check(ext2fs_read_inode(fs, dir, &inode), "reading the directory inode", where);
  check(ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_INIT_BEYOND_EOF, dir, &inode, ~0ULL, 0,
                         blocks.size()),
        "allocating directory blocks", where);
  for (size_t i = 0; i < blocks.size(); ++i) {
    blk64_t pblk = 0;
    check(ext2fs_bmap2(fs, dir, &inode, nullptr, 0, i, nullptr, &pblk), "mapping a directory block", where);
    check(ext2fs_write_dir_block4(fs, pblk, const_cast<char*>(blocks[i].data()), 0, dir), "writing a directory block",
          where);
  }
  check(ext2fs_inode_size_set(fs, &inode, static_cast<uint64_t>(blocks.size()) * fs->blocksize),
        "setting the directory size", where);
  check(ext2fs_write_inode(fs, dir, &inode), "writing the directory inode", where);
}

}  // namespace cube::rootfs
