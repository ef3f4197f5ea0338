#include "ext4_lister.hpp"

#include "error.hpp"
#include "sha256.hpp"

extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace cube::rootfs {
namespace {

struct CloseFs {
  void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};
using FsPtr = std::unique_ptr<struct struct_ext2_filsys, CloseFs>;

void check(errcode_t err, const std::string& doing) {
  if (err) throw Error(Exit::failed, fmt::format("{} while {}", error_message(err), doing));
}

std::string type_of(uint16_t mode) {
  switch (mode & LINUX_S_IFMT) {
    case LINUX_S_IFREG: return "file";
    case LINUX_S_IFDIR: return "dir";
    case LINUX_S_IFLNK: return "symlink";
    case LINUX_S_IFCHR: return "char";
    case LINUX_S_IFBLK: return "block";
    case LINUX_S_IFIFO: return "fifo";
    case LINUX_S_IFSOCK: return "socket";
  }
  return "?";
}

std::string read_content(ext2_filsys fs, ext2_ino_t ino, uint64_t limit, Sha256* sha) {
  ext2_file_t f = nullptr;
  check(ext2fs_file_open(fs, ino, 0, &f), fmt::format("opening inode {}", ino));
  std::unique_ptr<struct ext2_file, errcode_t (*)(ext2_file_t)> owner(f, ext2fs_file_close);
  std::string out;
  std::vector<char> buf(1 << 20);
  for (;;) {
    unsigned int got = 0;
    check(ext2fs_file_read(f, buf.data(), static_cast<unsigned>(buf.size()), &got),
          fmt::format("reading inode {}", ino));
    if (got == 0) break;
    if (sha) sha->update(buf.data(), got);
    if (out.size() < limit) out.append(buf.data(), std::min<size_t>(got, limit - out.size()));
  }
  return out;
}

std::string hex(std::string_view v) {
  std::string out;
  for (unsigned char c : v) out += fmt::format("{:02x}", c);
  return out;
}

int collect_xattr(char* name, char* value, size_t len, void* data) {
  static_cast<ListedEntry*>(data)->xattrs.emplace_back(name, hex(std::string_view(value, len)));
  return 0;
}

struct Walker {
  ext2_filsys fs;
  bool with_content;
  std::vector<ListedEntry> out;

  void describe(ext2_ino_t ino, std::string path) {
    ext2_inode_large inode{};
    check(ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode),
          "reading inode of " + path);
    ListedEntry e;
    e.path = path;
    e.type = type_of(inode.i_mode);
    e.mode = inode.i_mode & 07777;
    e.uid = inode_uid(inode);
    e.gid = inode_gid(inode);
    e.nlink = inode.i_links_count;
    e.ino = ino;
    e.size = EXT2_I_SIZE(&inode);
    e.mtime_sec = static_cast<int32_t>(inode.i_mtime);
    if (inode.i_extra_isize >= 24) {
      e.mtime_sec += static_cast<int64_t>(inode.i_mtime_extra & EXT4_EPOCH_MASK) << 32;
      e.mtime_nsec = inode.i_mtime_extra >> EXT4_EPOCH_BITS;
    }
    if (e.type == "symlink") {
      if (ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode*>(&inode)))
        e.target.assign(reinterpret_cast<const char*>(inode.i_block),
                        strnlen(reinterpret_cast<const char*>(inode.i_block), sizeof inode.i_block));
      else
        e.target = read_content(fs, ino, 4096, nullptr);
    } else if (e.type == "char" || e.type == "block") {
      if (inode.i_block[0]) {
        e.rdev_major = (inode.i_block[0] >> 8) & 0xff;
        e.rdev_minor = inode.i_block[0] & 0xff;
      } else {
        uint32_t d = inode.i_block[1];
        e.rdev_major = (d & 0xfff00) >> 8;
        e.rdev_minor = (d & 0xff) | ((d >> 12) & 0xfff00);
      }
    } else if (e.type == "file" && with_content) {
      Sha256 sha;
      read_content(fs, ino, 0, &sha);
      e.sha256 = sha.hex();
    }
    ext2_xattr_handle* h = nullptr;
    check(ext2fs_xattrs_open(fs, ino, &h), "opening xattrs of " + path);
    std::unique_ptr<ext2_xattr_handle, void (*)(ext2_xattr_handle*)> owner(
        h, [](ext2_xattr_handle* p) { ext2fs_xattrs_close(&p); });
    check(ext2fs_xattrs_read(h), "reading xattrs of " + path);
    check(ext2fs_xattrs_iterate(h, collect_xattr, &e), "listing xattrs of " + path);
    std::sort(e.xattrs.begin(), e.xattrs.end());
    bool is_dir = e.type == "dir";
    out.push_back(std::move(e));
    if (is_dir) walk(ino, path);
  }

  void walk(ext2_ino_t dir, const std::string& prefix) {
    std::vector<std::pair<std::string, ext2_ino_t>> names;
    auto cb = [](ext2_dir_entry* d, int, int, char*, void* data) -> int {
      auto* v = static_cast<std::vector<std::pair<std::string, ext2_ino_t>>*>(data);
      std::string name(d->name, ext2fs_dirent_name_len(d));
      if (name != "." && name != "..") v->emplace_back(name, d->inode);
      return 0;
    };
    check(ext2fs_dir_iterate(fs, dir, 0, nullptr, cb, &names), "reading directory " + prefix);
    for (auto& [name, ino] : names) {
      std::string path = (prefix == "/" ? "" : prefix) + "/" + name;
      if (path == "/lost+found") continue;
      describe(ino, path);
    }
  }
};

}  // namespace

std::vector<ListedEntry> list_image(const std::string& path, bool with_content) {
  ext2_filsys raw = nullptr;
  errcode_t err = ext2fs_open(path.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &raw);
  if (err) throw Error(Exit::usage, fmt::format("{}: {} while opening the ext4 image", path, error_message(err)));
  FsPtr fs(raw);
  check(ext2fs_read_bitmaps(raw), "reading bitmaps");
  Walker w{raw, with_content, {}};
  w.walk(EXT2_ROOT_INO, "/");
  std::sort(w.out.begin(), w.out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return w.out;
}

}  // namespace cube::rootfs
