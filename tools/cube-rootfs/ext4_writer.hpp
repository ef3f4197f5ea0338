// cube::rootfs::Ext4Writer — makes an ext4 file system in an image file with libext2fs and fills it
// from a Tree: no mkfs, no mount, no loop device.
//
// Contract:
// - The constructor makes `path` (absent, or an empty file: a held part) of `bytes` and a file
//   system in it: 4 KiB blocks, 256-byte inodes, extents, flex_bg, 64bit, dir_index,
//   metadata_csum, a journal, lost+found, as mke2fs would. `inodes` 0 picks one inode per 16 KiB.
// - write_tree() creates every directory, symlink, device, FIFO and socket, and an empty inode for
//   each regular file with its owner, mode, times, xattrs and link count; hardlinks share inodes.
// - write_content() streams a regular file's bytes (holes kept, all-zero blocks left unallocated,
//   as mke2fs -d does) and records the content's SHA-256 in the Inode, unless the Inode already
//   holds it: the first pass hashed the bytes of an inflated layer while it waited for the inflater,
//   and those are the bytes its spool gives back.
// - close() writes the bitmaps, group descriptors and superblock; without it the image is junk
//   and the caller removes it. Errors read "<path>: <libext2fs error> while <doing what>".
#pragma once

#include "archive_stream.hpp"
#include "layer_tree.hpp"

#include <ext2fs/ext2fs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cube::rootfs {

class ImageWrites;

struct FsParams {
  uint64_t bytes = 0;
  uint64_t inodes = 0;          // 0: one per 16 KiB
  uint32_t journal_blocks = 0;  // 0: libext2fs's default for the size
};

class Ext4Writer {
 public:
  Ext4Writer(std::string path, const FsParams& params);
  ~Ext4Writer();
  Ext4Writer(const Ext4Writer&) = delete;
  Ext4Writer& operator=(const Ext4Writer&) = delete;

  void write_tree(Node& root);
  void write_content(Inode& inode, TarReader& reader);
  void write_outside(Inode& inode);
  void close();

  uint64_t free_blocks() const;
  uint64_t total_blocks() const;

 private:
  void init_fs(const FsParams& params);
  std::vector<Node*> write_dir_node(Node& dir, ext2_ino_t self, ext2_ino_t parent);
  ext2_ino_t make_inode(Node& node, ext2_ino_t parent);
  void set_meta(ext2_ino_t ino, const Inode& i, bool set_links, std::string_view where);
  void set_xattrs(ext2_ino_t ino, const Inode& i, std::string_view where);
  void check(errcode_t err, std::string_view doing, std::string_view where) const;

  std::string m_path;
  Fd m_image_fd;
  std::unique_ptr<ImageWrites> m_writes;  // file contents, written on their own thread
  ext2_filsys m_fs = nullptr;
  ext2_ino_t m_lost_found = 0;
  bool m_closed = false;
};

}  // namespace cube::rootfs
