#include "ext4_lister.hpp"

#include "error.hpp"
#include "ext2_errors.hpp"
#include "fs.hpp"
#include "sha256.hpp"
#include "sizing.hpp"

#include <ext2fs/ext2fs.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

namespace cube::rootfs {
namespace {

struct CloseFs {
  void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};
using FsPtr = std::unique_ptr<struct struct_ext2_filsys, CloseFs>;

void check(errcode_t err, const std::string& doing) {
  if (err)
    throw Error(Exit::usage, fmt::format("{} while {}", ext2_error_text(err), doing), "",
                "the image is corrupt; e2fsck -n FILE tells more");
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

std::string read_content(ext2_filsys fs, ext2_ino_t ino, uint64_t limit, Sha256* sha, std::vector<char>& buf) {
  ext2_file_t f = nullptr;
  check(ext2fs_file_open(fs, ino, 0, &f), fmt::format("opening inode {}", ino));
  std::unique_ptr<struct ext2_file, errcode_t (*)(ext2_file_t)> owner(f, ext2fs_file_close);
  std::string out;
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

// The deepest path inspect follows: what the writer allows (PATH_MAX, layer_tree.hpp), so any
// image cube-rootfs wrote is listed whole and a hostile one cannot make paths of any length.
constexpr size_t k_max_path = 4096;

// Walks the directory tree from a list, not by recursion. A directory is entered once: a second
// name for one (a hard-linked directory, which ext4 forbids but a crafted image can hold) would make
// a cycle or repeat a subtree, and is refused.
struct Walker {
  Walker(ext2_filsys f, bool content, uint64_t bytes)
      : fs(f), with_content(content), image_bytes(bytes), hash_budget(bytes + hole_allowance(bytes)), buf(1 << 20) {}

  ext2_filsys fs;
  bool with_content;
  uint64_t image_bytes;
  uint64_t hash_budget;
  uint64_t hashed = 0;
  std::vector<ListedEntry> out;
  std::vector<std::pair<ext2_ino_t, std::string>> todo;  // directories still to list
  std::unordered_set<ext2_ino_t> dirs_seen;
  std::vector<char> buf;  // one read buffer for every file

  void run() {
    dirs_seen.insert(EXT2_ROOT_INO);
    todo.emplace_back(EXT2_ROOT_INO, "/");
    while (!todo.empty()) {
      auto [ino, path] = std::move(todo.back());
      todo.pop_back();
      walk(ino, path);
    }
  }

  void describe(ext2_ino_t ino, std::string path) {
    if (ino < 1 || ino > fs->super->s_inodes_count)
      throw Error(
          Exit::failed,
          fmt::format("{}: the entry names inode {}, outside the image's {}", path, ino, fs->super->s_inodes_count),
          "the image is corrupt");
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
        e.target = read_content(fs, ino, 4096, nullptr, buf);
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
      // A sparse file may claim any size and hashing reads its holes as zeros: all the files hashed
      // together get the image's size plus the holes that much data may have (sizing.hpp).
      if (e.size > hash_budget - hashed)
        throw Error(Exit::usage,
                    fmt::format("{}: a file of {} bytes after {} bytes of others, in an image of {} bytes", path,
                                e.size, hashed, image_bytes),
                    fmt::format("at most {} bytes of content are hashed for an image this size", hash_budget),
                    "the image is corrupt or hostile; inspect without --content lists it");
      hashed += e.size;
      Sha256 sha;
      read_content(fs, ino, 0, &sha, buf);
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
    if (!is_dir) return;
    if (!dirs_seen.insert(ino).second)
      throw Error(Exit::usage, fmt::format("{}: directory inode {} has a second name", path, ino),
                  "the image is corrupt (a directory hard link, perhaps a cycle); e2fsck would fix it");
    todo.emplace_back(ino, path);
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
      if (path.size() > k_max_path)
        throw Error(Exit::usage, fmt::format("{:.200}…: a path longer than {} bytes", path, k_max_path),
                    "the image is corrupt or hostile");
      describe(ino, path);
    }
  }
};

}  // namespace

std::vector<ListedEntry> list_image(const std::string& path, bool with_content) {
  // A regular file only (a FIFO or /dev/zero would never end); missing is exit 3, as for convert.
  Fd fd = fs::open_regular(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, "reading " + path);
  init_ext2_errors();
  ext2_filsys raw = nullptr;
  errcode_t err = ext2fs_open(path.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &raw);
  if (err) throw Error(Exit::usage, fmt::format("{}: {} while opening the ext4 image", path, ext2_error_text(err)));
  FsPtr fs(raw);
  check(ext2fs_read_bitmaps(raw), "reading bitmaps");
  Walker w(raw, with_content, static_cast<uint64_t>(st.st_size));
  w.run();
  std::sort(w.out.begin(), w.out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return w.out;
}

}  // namespace cube::rootfs
