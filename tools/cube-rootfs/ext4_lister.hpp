// cube::rootfs::list_image — reads an ext4 image with libext2fs (no mount) and describes every
// name in it, for `cube-rootfs inspect` and the tests that compare an image with `umoci unpack`.
//
// Contract: one record per name except the root and /lost+found, sorted by path: type, mode,
// uid, gid, size, sha256 of a regular file's content, symlink target, device numbers, link count,
// inode number (hardlink groups share it), mtime, and extended attributes with hex values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cube::rootfs {

struct ListedEntry {
  std::string path, type, target, sha256;
  uint32_t mode = 0, uid = 0, gid = 0, nlink = 0, ino = 0, rdev_major = 0, rdev_minor = 0;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // name, hex value
};

std::vector<ListedEntry> list_image(const std::string& path, bool with_content);

}  // namespace cube::rootfs
