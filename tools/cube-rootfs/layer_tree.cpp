#include "layer_tree.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <unordered_set>

namespace cube::rootfs {
namespace {

constexpr size_t k_max_name = 255;     // ext4 directory entry limit
constexpr size_t k_max_path = 4096;    // PATH_MAX
constexpr size_t k_max_target = 4095;  // ext4 symlink target limit (one block)
constexpr std::string_view k_whiteout = ".wh.";
constexpr std::string_view k_opaque = ".wh..wh..opq";
constexpr int k_max_links = 255;  // filepath-securejoin's limit on links followed for one path

// A symlink target's names, "." and empty ones dropped; ".." kept, for the walk to apply it after
// the names before it are resolved.
std::vector<std::string> split_lexical(std::string_view path) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= path.size();) {
    size_t slash = std::min(path.find('/', pos), path.size());
    std::string_view comp = path.substr(pos, slash - pos);
    if (!comp.empty() && comp != ".") out.emplace_back(comp);
    pos = slash + 1;
  }
  return out;
}

std::unique_ptr<Node> make_node(std::string name, std::shared_ptr<Inode> inode, int layer, Node* parent,
                                std::string_view where) {
  size_t path_bytes = parent->path_bytes + 1 + name.size();
  if (path_bytes > k_max_tree_path)
    throw Error(
        Exit::usage,
        fmt::format("{}: \"{:.80}…/{:.40}\" would be {} bytes deep", where, node_path(*parent), name, path_bytes),
        fmt::format("no path in the image may be longer than {} bytes (PATH_MAX)", k_max_tree_path),
        "symbolic links on the way can make a short entry name a long path");
  auto n = std::make_unique<Node>();
  n->path_bytes = path_bytes;
  n->name = std::move(name);
  n->inode = std::move(inode);
  n->layer = layer;
  n->parent = parent;
  return n;
}

std::shared_ptr<Inode> implicit_dir() {
  auto i = std::make_shared<Inode>();
  i->kind = Kind::directory;
  i->mode = 0755;
  return i;
}

void copy_meta(Inode& i, const Entry& e) {
  i.mode = e.mode & 07777;
  i.uid = e.uid;
  i.gid = e.gid;
  i.mtime_sec = e.mtime_sec;
  i.mtime_nsec = e.mtime_nsec;
  i.xattrs = e.xattrs;
}

// Marks a directory and its ancestors as touched by `layer`, so a later whiteout in the same layer
// keeps them (umoci's upper paths hold every ancestor of what a layer extracted).
void mark_upper(Node& dir, int layer) {
  for (Node* n = &dir; n && n->layer < layer; n = n->parent) n->layer = layer;
}

uint64_t round4(uint64_t n) { return (n + 3) & ~uint64_t(3); }

}  // namespace

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::regular: return "file";
    case Kind::directory: return "dir";
    case Kind::symlink: return "symlink";
    case Kind::chardev: return "char";
    case Kind::blockdev: return "block";
    case Kind::fifo: return "fifo";
    case Kind::socket: return "socket";
  }
  return "?";
}

std::vector<std::string> split_path(std::string_view path, std::string_view where) {
  if (path.size() > k_max_path)
    throw Error(Exit::usage, fmt::format("{}: path is {} bytes", where, path.size()),
                fmt::format("the limit is {}", k_max_path));
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view comp = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (parts.empty()) throw Error(Exit::usage, fmt::format("{}: entry \"{}\" escapes the image root", where, path));
      parts.pop_back();
      continue;
    }
    if (comp.size() > k_max_name)
      throw Error(Exit::usage, fmt::format("{}: a name in \"{:.80}…\" is {} bytes", where, path, comp.size()),
                  fmt::format("ext4 allows {}", k_max_name));
    parts.emplace_back(comp);
  }
  return parts;
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string node_path(const Node& n) {
  std::vector<const Node*> chain;
  for (const Node* p = &n; p && p->parent; p = p->parent) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) out += "/" + (*it)->name;
  return out.empty() ? "/" : out;
}

Tree::Tree(Limits limits) : m_limits(limits) {
  m_root.inode = implicit_dir();
  m_root.layer = -1;
}

Node* Tree::lookup(std::string_view path, Follow follow) {
  auto names = split_path(path, "lookup");
  if (follow == Follow::last) {
    auto resolved = resolve(std::move(names));
    if (!resolved) return nullptr;
    names = std::move(*resolved);
  }
  if (names.empty()) return &m_root;
  Node* dir = nullptr;
  try {
    dir = parent_dir(names, -1, "lookup", false);
  } catch (const Error&) {
    return nullptr;  // a symlink loop on the way
  }
  if (!dir) return nullptr;
  auto it = dir->children.find(names.back());
  return it == dir->children.end() ? nullptr : it->second.get();
}

Node* Tree::parent_dir(const std::vector<std::string>& parts, int layer, std::string_view where, bool create) {
  std::span<const std::string> names(parts.data(), parts.empty() ? 0 : parts.size() - 1);
  // The common case has no symlink on the way: the names are the path, walked once.
  Node* n = &m_root;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = n->inode->kind == Kind::directory ? n->children.find(names[i]) : n->children.end();
    if (it == n->children.end()) return descend(*n, names.subspan(i), layer, where, create);
    n = it->second.get();
    if (n->inode->kind == Kind::symlink) break;
  }
  if (n->inode->kind != Kind::symlink) return descend(*n, {}, layer, where, create);
  std::string dir = join_path({names.begin(), names.end()});
  auto resolved = resolve({names.begin(), names.end()});
  if (!resolved)
    throw Error(Exit::usage,
                fmt::format("{}: more than {} symbolic links on the way to \"{}\"", where, k_max_links, dir),
                "the links form a loop");
  return descend(m_root, *resolved, layer, where, create,
                 fmt::format(" (reached through symbolic links from \"{}\")", dir));
}

std::optional<std::vector<std::string>> Tree::resolve(std::vector<std::string> names) {
  // filepath-securejoin's walk: `todo` holds the names still to read, front first (reversed, so the
  // front is the back of the vector); `path` and `nodes` the resolved ones, nodes null once a name
  // does not exist (everything beneath it does not either, until a ".." climbs back).
  std::vector<std::string> todo(std::make_move_iterator(names.rbegin()), std::make_move_iterator(names.rend()));
  std::vector<std::string> path;
  std::vector<Node*> nodes;
  int links = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (name == "..") {
      if (!path.empty()) {
        path.pop_back();
        nodes.pop_back();
      }
      continue;
    }
    Node* at = nodes.empty() ? &m_root : nodes.back();
    Node* child = nullptr;
    if (at && at->inode->kind == Kind::directory) {
      auto it = at->children.find(name);
      if (it != at->children.end()) child = it->second.get();
    }
    if (!child || child->inode->kind != Kind::symlink) {
      path.push_back(std::move(name));
      nodes.push_back(child);
      continue;
    }
    if (++links > k_max_links) return std::nullopt;
    const std::string& target = child->inode->target;
    if (target.starts_with("/")) {
      path.clear();
      nodes.clear();
    }
    auto parts = split_lexical(target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(std::move(*it));
  }
  return path;
}

Node* Tree::descend(Node& from, std::span<const std::string> names, int layer, std::string_view where, bool create,
                    std::string_view via) {
  Node* n = &from;
  for (const auto& name : names) {
    if (n->inode->kind != Kind::directory) break;
    auto it = n->children.find(name);
    if (it == n->children.end()) {
      if (!create) return nullptr;
      if (name.size() > k_max_name)
        throw Error(Exit::usage, fmt::format("{}: a directory name of {} bytes on the way", where, name.size()),
                    fmt::format("ext4 allows {}", k_max_name));
      it = n->children.emplace(name, make_node(name, implicit_dir(), layer, n, where)).first;
    }
    n = it->second.get();
  }
  if (n->inode->kind == Kind::directory) return n;
  if (!create) return nullptr;
  throw Error(Exit::usage, fmt::format("{}: parent \"{}\"{} is a {}, not a directory", where, node_path(*n), via,
                                       kind_name(n->inode->kind)));
}

void Tree::remove_lower(Node& dir, const std::string& name, int layer) {
  auto it = dir.children.find(name);
  if (it == dir.children.end()) return;
  // A whiteout hides only what lower layers wrote; the same layer's own entries stay (OCI spec), and
  // so do the directories holding them, minus their lower-layer children (as umoci walks it).
  if (it->second->layer < layer)
    dir.children.erase(it);
  else
    purge_lower(*it->second, layer);
}

void Tree::purge_lower(Node& dir, int layer) {
  // Nothing from a lower layer can appear beneath a directory once this layer cleared it, so a
  // second whiteout naming it need not walk it again (which would let a hostile layer go quadratic).
  if (dir.purged == layer) return;
  dir.purged = layer;
  for (auto it = dir.children.begin(); it != dir.children.end();) {
    if (it->second->layer < layer) {
      it = dir.children.erase(it);
      continue;
    }
    purge_lower(*it->second, layer);
    ++it;
  }
}

void check_entry(const Limits& limits, uint64_t entries, const Entry& e, std::string_view where) {
  if (entries > limits.max_entries)
    throw Error(Exit::usage, fmt::format("{}: more than {} entries", where, limits.max_entries),
                "the image is too large or hostile", "raise --max-entries if the image is genuine");
  if (e.size > limits.max_total_bytes)
    throw Error(Exit::usage, fmt::format("{}: entry \"{}\" claims {} bytes", where, e.path, e.size),
                fmt::format("the limit is {} bytes", limits.max_total_bytes));
}

Inode* Tree::apply(int layer, uint64_t entry_no, const Entry& e, std::string_view where) {
  check_entry(m_limits, ++m_entries, e, where);
  auto parts = split_path(e.path, where);
  if (parts.empty()) {  // the root itself ("./")
    if (e.kind == Kind::directory && !e.is_hardlink) copy_meta(*m_root.inode, e);
    return nullptr;
  }
  std::string name = parts.back();
  if (name.starts_with(k_whiteout)) {
    // A whiteout in a directory that is not there has nothing to hide, and creates nothing.
    Node* dir = parent_dir(parts, layer, where, false);
    if (!dir) return nullptr;
    if (name == k_opaque)
      purge_lower(*dir, layer);
    else if (!name.starts_with(".wh..wh."))  // other ".wh..wh." names are aufs internals: skip
      remove_lower(*dir, name.substr(k_whiteout.size()), layer);
    return nullptr;
  }
  Node& parent = *parent_dir(parts, layer, where, true);
  mark_upper(parent, layer);

  std::shared_ptr<Inode> inode;
  if (e.is_hardlink) {
    Node* target = lookup(e.link);
    if (!target)
      throw Error(Exit::usage,
                  fmt::format("{}: hardlink \"{}\" points to \"{}\", which does not exist", where, e.path, e.link));
    if (target->inode->kind == Kind::directory)
      throw Error(Exit::usage, fmt::format("{}: hardlink \"{}\" points to directory \"{}\"", where, e.path, e.link));
    if (target->parent == &parent && target->name == name) return nullptr;  // a link to itself
    inode = target->inode;
  } else {
    auto existing = parent.children.find(name);
    if (e.kind == Kind::directory && existing != parent.children.end() &&
        existing->second->inode->kind == Kind::directory) {
      copy_meta(*existing->second->inode, e);  // a directory over a directory keeps its children
      existing->second->layer = layer;
      return nullptr;
    }
    inode = std::make_shared<Inode>();
    inode->kind = e.kind;
    copy_meta(*inode, e);
    if (e.kind == Kind::symlink) {
      if (e.link.empty() || e.link.size() > k_max_target)
        throw Error(Exit::usage,
                    fmt::format("{}: symlink \"{}\" has a target of {} bytes", where, e.path, e.link.size()),
                    fmt::format("ext4 allows 1 to {}", k_max_target));
      inode->target = e.link;
      inode->size = e.link.size();
    } else if (e.kind == Kind::chardev || e.kind == Kind::blockdev) {
      inode->rdev_major = e.rdev_major;
      inode->rdev_minor = e.rdev_minor;
    } else if (e.kind == Kind::regular) {
      inode->size = e.size;
      inode->sparse = e.sparse;
      inode->data_bytes = e.data_bytes;
      inode->data_blocks = e.data_blocks;
      if (e.size > 0) {
        inode->src_layer = layer;
        inode->src_entry = entry_no;
      }
    }
  }
  parent.children[name] = make_node(name, inode, layer, &parent, where);
  return inode->src_layer == layer && inode->src_entry == entry_no && !e.is_hardlink ? inode.get() : nullptr;
}

Inode& Tree::add_outside_file(std::string_view path, uint32_t mode, uint64_t size, std::string src_path) {
  auto parts = split_path(path, "--add-file");
  if (parts.empty()) throw Error(Exit::usage, fmt::format("--add-file: destination \"{}\" is the root", path));
  Node& parent = *parent_dir(parts, 1 << 30, "--add-file", true);
  auto inode = std::make_shared<Inode>();
  inode->mode = mode & 07777;
  inode->size = size;
  inode->src_path = std::move(src_path);
  auto& slot = parent.children[parts.back()];
  if (slot && slot->inode->kind == Kind::directory)
    throw Error(Exit::usage,
                fmt::format("--add-file: \"{}\" is a directory in the image ({} entries in it)", node_path(*slot),
                            slot->children.size()),
                "a file never replaces a directory",
                fmt::format("name a file inside it, as {}/NAME", node_path(*slot)));
  slot = make_node(parts.back(), inode, 1 << 30, &parent, "--add-file");
  return *inode;
}

TreeStats Tree::finish() {
  TreeStats st;
  std::unordered_set<const Inode*> seen;
  std::vector<Node*> stack{&m_root};
  // First reset every count, then count names: a node may be reached through several names.
  std::vector<Node*> all;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    all.push_back(n);
    n->inode->nlink = 0;
    for (auto& [_, c] : n->children) stack.push_back(c.get());
  }
  for (Node* n : all) {
    Inode& i = *n->inode;
    if (i.kind == Kind::directory) {
      i.nlink = 2;
      st.dirs++;
      st.dirent_bytes += 24;  // "." and ".."
      for (auto& [name, c] : n->children) {
        st.dirent_bytes += 8 + round4(name.size());
        if (c->inode->kind == Kind::directory) i.nlink++;
      }
    } else {
      i.nlink++;
      st.non_dirs++;
      st.data_bytes += i.size;
    }
    if (!seen.insert(&i).second) continue;
    st.inodes++;
    if (!i.xattrs.empty()) st.xattr_inodes++;
    if (i.kind == Kind::symlink && i.target.size() >= 60) st.long_symlinks++;
    if (i.kind == Kind::regular) {
      st.content_bytes += i.size;
      st.content_blocks += i.sparse ? i.data_blocks : (i.size + 4095) / 4096;
      if (i.sparse) st.hole_bytes += i.size - std::min(i.size, i.data_bytes);
    }
  }
  if (st.content_bytes > m_limits.max_total_bytes)
    throw Error(Exit::usage, fmt::format("the image holds {} bytes of file content", st.content_bytes),
                fmt::format("the limit is {} bytes", m_limits.max_total_bytes));
  return st;
}

}  // namespace cube::rootfs
