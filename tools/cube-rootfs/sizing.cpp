#include "sizing.hpp"

#include "error.hpp"
#include "log.hpp"
#include "units.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>

namespace cube::rootfs {
namespace {

constexpr uint64_t k_block = 4096;
constexpr uint64_t k_mib = 1 << 20;
constexpr uint64_t k_blocks_per_group = 32768;
constexpr uint64_t k_inode_size = 256;
constexpr uint64_t k_reserved_inodes = 11;            // inodes 1..10 and lost+found
constexpr uint32_t k_exact_journal = 1024;            // 4 MiB, the smallest journal the kernel accepts
constexpr uint64_t k_max_image = uint64_t(16) << 40;  // 16 TiB: the largest image made

[[noreturn]] void too_large(std::string what, uint64_t bytes) {
  throw Error(Exit::usage, fmt::format("{} is {}", what, units::format_size(bytes)),
              fmt::format("the largest image cube-rootfs makes is {}", units::format_size(k_max_image)));
}

constexpr uint64_t k_free_holes = uint64_t(1) << 30;
constexpr uint64_t k_holes_per_data = 64;

void check_holes(const TreeStats& st) {
  uint64_t data = st.content_bytes - st.hole_bytes;
  if (st.hole_bytes <= hole_allowance(data)) return;
  throw Error(Exit::usage,
              fmt::format("sparse files claim {} of holes for {} of data", units::format_size(st.hole_bytes),
                          units::format_size(data)),
              fmt::format("at most {} of holes, or {} times the data, are accepted", units::format_size(k_free_holes),
                          k_holes_per_data),
              "the archive is hostile or broken");
}

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t round_up(uint64_t a, uint64_t b) { return div_up(a, b) * b; }

bool has_backup(uint64_t g) {
  if (g <= 1) return true;
  for (uint64_t base : {3, 5, 7}) {
    uint64_t p = base;
    while (p < g) p *= base;
    if (p == g) return true;
  }
  return false;
}

// The journal libext2fs picks for a file system of `blocks` (ext2fs_default_journal_size).
uint32_t default_journal(uint64_t blocks) {
  int j = ext2fs_default_journal_size(blocks);
  return j > 0 ? static_cast<uint32_t>(j) : k_exact_journal;
}

uint64_t default_inodes(uint64_t bytes, uint64_t want) { return std::max(bytes / 16384, want + 64); }

uint64_t env_knob(const char* name, uint64_t fallback, uint64_t lo, uint64_t hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0' || n < lo || n > hi) {
    log::warn("ignoring {}={:?}: expected an integer from {} to {}", name, v, lo, hi);
    return fallback;
  }
  return n;
}

}  // namespace

// A sparse entry declares its holes for free, and hashing a file's content reads them as zeros (and
// the model sizes the image by them): the holes allowed keep that work in proportion to the input.
uint64_t hole_allowance(uint64_t data_bytes) {
  return data_bytes > k_free_holes / k_holes_per_data ? std::min(data_bytes, k_max_image) * k_holes_per_data
                                                      : k_free_holes;
}

ModelKnobs model_knobs_from_env() {
  ModelKnobs k;
  k.fixed_mib = env_knob("CUBE_EXT4_FIXED_OVERHEAD_MIB", 256, 1, 1 << 20);
  k.percent = env_knob("CUBE_EXT4_OVERHEAD_PERCENT", 10, 1, 20);
  return k;
}

uint64_t model_bytes(const TreeStats& st, const ModelKnobs& knobs) {
  uint64_t size = st.data_bytes + knobs.fixed_mib * k_mib + st.data_bytes * knobs.percent / 100 + st.non_dirs * 1024;
  size = std::max<uint64_t>(size, 1024 * k_mib);
  return round_up(size, 256 * k_mib);
}

uint64_t needed_blocks(const TreeStats& st) {
  // Directory blocks: entries pack into 4 KiB blocks less the 12-byte checksum tail, and each
  // directory takes at least one block. Half-full blocks after growth are covered by the 1/8 slack.
  uint64_t dir_blocks = st.dirs + div_up(st.dirent_bytes, k_block - 12) + st.dirent_bytes / (k_block * 8);
  // Extent tree blocks: a file with more than 4 extents (over 512 MiB, or sparse) needs one.
  uint64_t extent_blocks = st.content_blocks / 32768 + 16;
  uint64_t lost_found = 4;
  return st.content_blocks + dir_blocks + st.long_symlinks + st.xattr_inodes + extent_blocks + lost_found;
}

uint64_t capacity_blocks(uint64_t bytes, uint64_t inodes, uint32_t journal_blocks) {
  uint64_t blocks = bytes / k_block;
  uint64_t groups = div_up(blocks, k_blocks_per_group);
  if (groups == 0) return 0;
  uint64_t ipg = round_up(div_up(inodes, groups), k_block / k_inode_size);
  uint64_t itable = div_up(ipg * k_inode_size, k_block);
  uint64_t gdt = div_up(groups * 64, k_block);
  uint64_t overhead = journal_blocks;
  for (uint64_t g = 0; g < groups; ++g) overhead += 2 + itable + (has_backup(g) ? 1 + gdt : 0);
  return overhead >= blocks ? 0 : blocks - overhead;
}

FsParams plan_size(const TreeStats& st, const SizeRequest& req, const ModelKnobs& knobs) {
  uint64_t need = needed_blocks(st);
  uint64_t want_inodes = st.inodes + k_reserved_inodes;
  FsParams p;
  check_holes(st);
  if (req.headroom > k_max_image) too_large("--headroom", req.headroom);
  if (req.mode == SizeMode::fixed && req.fixed_bytes > k_max_image) too_large("--size", req.fixed_bytes);
  if (need > k_max_image / k_block) too_large("the tree", need * k_block);
  if (req.mode == SizeMode::exact) {
    p.inodes = want_inodes + 16;
    p.journal_blocks = k_exact_journal;
    uint64_t target = need + div_up(req.headroom, k_block) + 32;
    // Capacity grows with size except for a small dip at each new group: search, then step past dips.
    uint64_t lo = std::max<uint64_t>(target, 2048), hi = lo * 2 + 65536;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (capacity_blocks(mid * k_block, p.inodes, p.journal_blocks) >= target)
        hi = mid;
      else
        lo = mid + 1;
    }
    while (capacity_blocks(lo * k_block, p.inodes, p.journal_blocks) < target) ++lo;
    p.bytes = lo * k_block;
    if (p.bytes > k_max_image) too_large("the image the tree and --headroom need", p.bytes);
    return p;
  }
  p.bytes = req.mode == SizeMode::fixed ? req.fixed_bytes - req.fixed_bytes % k_block : model_bytes(st, knobs);
  if (p.bytes > k_max_image) too_large("the image the model gives", p.bytes);
  p.inodes = default_inodes(p.bytes, want_inodes);
  p.journal_blocks = 0;
  uint64_t cap = capacity_blocks(p.bytes, p.inodes, default_journal(p.bytes / k_block));
  if (cap < need)
    throw Error(
        Exit::usage,
        fmt::format("the tree does not fit in {}: it needs about {} of blocks, the file system holds {}",
                    units::format_size(p.bytes), units::format_size(need * k_block), units::format_size(cap * k_block)),
        fmt::format("{} entries, {} of file data", st.inodes, units::format_size(st.content_bytes)),
        "give a larger --size, or --size exact");
  return p;
}

}  // namespace cube::rootfs
