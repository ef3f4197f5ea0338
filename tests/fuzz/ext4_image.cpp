// libFuzzer target: the ext4 image reader behind `cube-rootfs inspect --content`, over corrupted
// images. A small image with every kind of entry is written once (by cube-rootfs's own writer);
// each input is a list of patches to its metadata: [block, offset (2 bytes), length, bytes...],
// where `block` picks one of the image's non-empty 4 KiB blocks. The patched image is listed and
// its files hashed, then restored. A corrupt image must end as cube::Error, never a crash, a hang
// or unbounded memory.
#include "cube-rootfs/ext4_lister.hpp"
#include "cube-rootfs/ext4_writer.hpp"
#include "cube-rootfs/layer_tree.hpp"
#include "error.hpp"
#include "scratch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace cube::rootfs;

constexpr size_t k_block = 4096;

struct Base {
  std::string path;
  std::vector<char> bytes;
  std::vector<size_t> blocks;  // the non-empty ones
  int fd = -1;
};

Entry entry(std::string path, Kind kind, std::string link = {}, uint64_t size = 0) {
  Entry e;
  e.path = std::move(path);
  e.kind = kind;
  e.link = std::move(link);
  e.mode = kind == Kind::directory ? 0755 : 0644;
  e.size = size;
  e.data_bytes = size;
  e.data_blocks = (size + 4095) / 4096;
  e.mtime_sec = 1700000000;
  return e;
}

void write_base(const std::string& path) {
  Tree tree;
  uint64_t n = 0;
  tree.apply(0, n++, entry("etc", Kind::directory), "base");
  tree.apply(0, n++, entry("etc/a/b/c/d", Kind::directory), "base");
  for (int i = 0; i < 40; ++i)
    tree.apply(0, n++, entry("etc/many/file-with-a-long-name-" + std::to_string(i), Kind::regular), "base");
  tree.apply(0, n++, entry("etc/short", Kind::symlink, "a/b"), "base");
  tree.apply(0, n++, entry("etc/long", Kind::symlink, std::string(200, 'x')), "base");
  tree.apply(0, n++, entry("dev/null", Kind::chardev), "base");
  tree.apply(0, n++, entry("run/fifo", Kind::fifo), "base");
  Entry x = entry("etc/xattr", Kind::regular);
  x.xattrs = {{"user.k", "value"}, {"security.capability", std::string(20, '\1')}};
  tree.apply(0, n++, x, "base");
  Entry link = entry("etc/hard", Kind::regular);
  link.is_hardlink = true;
  link.link = "etc/xattr";
  tree.apply(0, n++, link, "base");
  std::vector<Inode*> files;
  for (const char* f : {"etc/data", "etc/a/b/c/d/big"}) {
    tree.apply(0, n++, entry(f, Kind::regular), "base");
    Inode& i = *tree.lookup(f)->inode;
    i.has_inline = true;
    i.inline_data = std::string(f[4] == 'd' ? 100 : 20000, 'q');
    i.size = i.inline_data.size();
    files.push_back(&i);
  }
  tree.finish();
  FsParams p;
  p.bytes = 8 << 20;
  p.inodes = 128;
  p.journal_blocks = 1024;
  Ext4Writer w(path, p);
  w.write_tree(tree.root());
  for (Inode* i : files) w.write_outside(*i);
  w.close();
}

Base& base() {
  static Base b = [] {
    Base b;
    b.path = cube::fuzz::scratch_path("ext4-image");
    ::unlink(b.path.c_str());
    write_base(b.path);
    b.fd = ::open(b.path.c_str(), O_RDWR | O_CLOEXEC);
    if (b.fd < 0) std::abort();
    b.bytes.resize(8 << 20);
    if (::pread(b.fd, b.bytes.data(), b.bytes.size(), 0) != static_cast<ssize_t>(b.bytes.size())) std::abort();
    for (size_t blk = 0; blk * k_block < b.bytes.size(); ++blk) {
      const char* p = b.bytes.data() + blk * k_block;
      for (size_t i = 0; i < k_block; ++i)
        if (p[i]) {
          b.blocks.push_back(blk);
          break;
        }
    }
    return b;
  }();
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Base& b = base();
  std::vector<std::pair<size_t, size_t>> touched;
  for (size_t pos = 0; pos + 4 <= size;) {
    size_t blk = b.blocks[data[pos] % b.blocks.size()];
    size_t off = blk * k_block + ((data[pos + 1] | data[pos + 2] << 8) % k_block);
    size_t len = std::min<size_t>({data[pos + 3] % 32u + 1, size - pos - 4, b.bytes.size() - off});
    if (::pwrite(b.fd, data + pos + 4, len, static_cast<off_t>(off)) != static_cast<ssize_t>(len)) std::abort();
    touched.emplace_back(off, len);
    pos += 4 + len;
  }
  try {
    (void)list_image(b.path, true);
  } catch (const cube::Error&) {
  }
  for (auto [off, len] : touched)
    if (::pwrite(b.fd, b.bytes.data() + off, len, static_cast<off_t>(off)) != static_cast<ssize_t>(len)) std::abort();
  return 0;
}
