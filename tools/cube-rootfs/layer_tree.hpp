// cube::rootfs::Tree — the image's final file tree as metadata only, built by applying each layer's
// entries in order with OCI layer semantics. File contents are not held: a regular file remembers
// which layer entry carries its bytes, and the writer streams them later.
//
// Contract:
// - apply() takes one entry of layer `layer` (entries numbered from 0 within the layer) and:
//   `.wh.NAME` removes NAME from lower layers; `.wh..wh..opq` removes every lower-layer child of its
//   directory; a hardlink joins the inode the target path has now (lower layers included), so a
//   later removal of the target keeps the link; an entry over an existing path replaces it, except
//   that a directory over a directory only updates its metadata.
// - Whiteouts follow umoci: what this layer wrote (or wrote beneath) stays, and a directory it
//   touched is searched for lower-layer children to remove instead.
// - Symbolic links on the way to an entry's directory (and to a hardlink's target's directory) are
//   followed inside the tree, as `umoci unpack` does with filepath-securejoin: a relative target from
//   the link's directory, an absolute one from the image root, ".." never above the root, at most
//   255 links; missing directories on the resolved path are created (0755, root), except for
//   whiteouts, which create nothing. The entry's own last component is never followed.
// - Paths are normalised (leading "/" and "./", repeated slashes); ".." in an entry's name that
//   leaves the root, a parent that is not a directory (after following links), a symlink loop, a
//   hardlink to a missing path or to a directory, and names or targets beyond the ext4 limits throw
//   Error(usage) naming the entry.
// - No name in the tree is deeper than PATH_MAX (4096 bytes from the root), however it was reached
//   (links let a few entries build a path of any length): a deeper one throws Error(usage), so every
//   walk over the tree is bounded in depth.
// - Limits (entries, total data) guard against hostile archives; exceeding one throws.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cube::rootfs {

enum class Kind { regular, directory, symlink, chardev, blockdev, fifo, socket };
std::string_view kind_name(Kind k);

struct Inode {
  Kind kind = Kind::regular;
  uint32_t mode = 0644;  // permission bits with setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;  // regular: content bytes; symlink: target length
  // A sparse regular file (a PAX or GNU sparse entry): the bytes and 4 KiB blocks its data covers;
  // the holes take no room. Files that are not sparse hold `size` bytes.
  bool sparse = false;
  uint64_t data_bytes = 0, data_blocks = 0;
  std::string target;  // symlink target
  uint32_t rdev_major = 0, rdev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
  // Where a regular file's bytes are: layer index and entry number within that layer; -1 for an
  // empty file or one that comes from outside the layers (--add-file).
  int src_layer = -1;
  uint64_t src_entry = 0;
  std::string src_path;     // an outside source file (--add-file), read by the writer
  std::string inline_data;  // content held in memory (the CA bake), when has_inline
  bool has_inline = false;
  std::string append;  // bytes written after the layer's content (a CA appended to a bundle)
  uint32_t nlink = 0;  // names pointing here, counted by Tree::finish
  uint32_t ino = 0;    // ext4 inode number, set by the writer
  std::string sha256;  // of the content, set by the writer
};

struct Node {
  std::string name;
  std::shared_ptr<Inode> inode;
  int layer = -1;   // the last layer that wrote this name or anything beneath it (umoci's upper paths)
  int purged = -1;  // the layer whose whiteout last cleared lower-layer entries beneath this directory
  Node* parent = nullptr;
  size_t path_bytes = 0;  // the length of node_path(): bounded by k_max_tree_path
  std::map<std::string, std::unique_ptr<Node>> children;
};

// One archive entry, as the reader parsed it.
struct Entry {
  std::string path;
  Kind kind = Kind::regular;
  bool is_hardlink = false;
  std::string link;  // hardlink target path or symlink target
  uint32_t mode = 0, uid = 0, gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;
  bool sparse = false;  // data_bytes and data_blocks as in Inode
  uint64_t data_bytes = 0, data_blocks = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// The longest path a name in the tree may have: PATH_MAX, the most a program in the guest can open.
constexpr size_t k_max_tree_path = 4096;

struct Limits {
  uint64_t max_entries = 2'000'000;
  uint64_t max_total_bytes = uint64_t(1) << 40;  // 1 TiB of content in the final tree
};

// The limits one entry is held to, `entries` being how many were read so far with it: exit 2
// naming `where` when it passes them.
void check_entry(const Limits& limits, uint64_t entries, const Entry& e, std::string_view where);

struct TreeStats {
  uint64_t data_bytes = 0;      // upstream's walk: lstat size of every non-directory name
  uint64_t non_dirs = 0;        // names that are not directories
  uint64_t dirs = 0;            // directories, root included
  uint64_t inodes = 0;          // distinct inodes, root included
  uint64_t content_bytes = 0;   // regular-file bytes (holes included), each inode once
  uint64_t content_blocks = 0;  // 4 KiB blocks for those bytes (holes excluded), each inode once
  uint64_t hole_bytes = 0;      // what sparse files' holes add to content_bytes
  uint64_t dirent_bytes = 0;    // directory entry bytes (8 + name rounded to 4)
  uint64_t long_symlinks = 0;   // targets too long for the inode (>= 60 bytes)
  uint64_t xattr_inodes = 0;    // inodes with extended attributes
};

class Tree {
 public:
  explicit Tree(Limits limits = {});

  // The inode whose bytes this entry carries, which the write pass streams into the image; null
  // when it carries none (a directory, a link, a whiteout, an empty file).
  Inode* apply(int layer, uint64_t entry_no, const Entry& e, std::string_view where);
  // Adds a file from outside the layers (--add-file), creating parents as 0755 root directories; it
  // replaces a file or link of that name, never a directory (Error(usage)).
  Inode& add_outside_file(std::string_view path, uint32_t mode, uint64_t size, std::string src_path);
  // Looks a path up as an entry would reach it: symlinks in its directories followed inside the
  // tree, and with Follow::last the final one too; null when absent, not a directory on the way,
  // or a symlink loop.
  enum class Follow { parents, last };
  Node* lookup(std::string_view path, Follow follow = Follow::parents);

  // Counts links and returns the totals the sizing model and the writer need.
  TreeStats finish();

  Node& root() { return m_root; }
  uint64_t entries_seen() const { return m_entries; }

 private:
  // The directory holding the last of `parts`, reached with links followed; with `create` missing
  // directories are made and a non-directory throws, without it null is returned for either.
  Node* parent_dir(const std::vector<std::string>& parts, int layer, std::string_view where, bool create);
  // The names `names` resolve to with every symlink followed (securejoin); nullopt on a loop.
  std::optional<std::vector<std::string>> resolve(std::vector<std::string> names);
  // Walks `names` down from `from`, creating missing directories when `create`.
  Node* descend(Node& from, std::span<const std::string> names, int layer, std::string_view where, bool create,
                std::string_view via = {});
  void remove_lower(Node& dir, const std::string& name, int layer);
  void purge_lower(Node& dir, int layer);

  Limits m_limits;
  Node m_root;
  uint64_t m_entries = 0;
};

// Splits a path into its normalised components; throws Error(usage) naming `where` when ".." would
// leave the root or a component is too long for ext4.
std::vector<std::string> split_path(std::string_view path, std::string_view where);
std::string join_path(const std::vector<std::string>& parts);
// The path of a node from the root, "/" for the root itself.
std::string node_path(const Node& n);

}  // namespace cube::rootfs
