// cube::rootfs directory blocks — a whole directory written at once, because its entries are all
// known from the tree. ext2fs_link scans the directory from the start for every name it adds (and
// ext2fs_mkdir looks the name up first), which is quadratic: /usr/share/man/man1 alone has 18,000
// names. Here each directory's blocks are laid out in one pass and written once.
#pragma once

#include <ext2fs/ext2fs.h>

#include <string>
#include <vector>

namespace cube::rootfs {

struct DirEntry {
  std::string name;
  ext2_ino_t ino = 0;
  int type = EXT2_FT_UNKNOWN;
};

// Lays out ".", ".." and `entries` in blocks of fs->blocksize with the checksum tail reserved
// (metadata_csum), at least `min_blocks` blocks; blocks beyond the entries hold one empty entry.
std::vector<std::string> layout_dir(ext2_filsys fs, ext2_ino_t self, ext2_ino_t parent,
                                    const std::vector<DirEntry>& entries, size_t min_blocks = 1);

// Allocates the directory's blocks, writes them (checksums set by libext2fs) and sets its size.
void write_dir(ext2_filsys fs, ext2_ino_t dir, const std::vector<std::string>& blocks, const std::string& where);

}  // namespace cube::rootfs
