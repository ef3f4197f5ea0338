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

std::unique_ptr<Node> make_node(std::string name, std::shared_ptr<Inode> inode, int layer, Node* parent) {
  auto n = std::make_unique<Node>();
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

Node* Tree::find(std::string_view path) {
  Node* n = &m_root;
  for (const auto& part : split_path(path, "lookup")) {
    auto it = n->children.find(part);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

Node& Tree::ensure_parents(const std::vector<std::string>& parts, int layer, std::string_view where) {
  Node* n = &m_root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = n->children.find(parts[i]);
    if (it == n->children.end()) {
      it = n->children.emplace(parts[i], make_node(parts[i], implicit_dir(), layer, n)).first;
    } else if (it->second->inode->kind != Kind::directory) {
      throw Error(Exit::usage,
                  fmt::format("{}: parent \"{}\" of an entry is a {}, not a directory", where, node_path(*it->second),
                              kind_name(it->second->inode->kind)),
                  "layers may not write through symbolic links");
    }
    n = it->second.get();
  }
  return *n;
}

void Tree::remove_lower(Node& dir, const std::string& name, int layer) {
  auto it = dir.children.find(name);
  // A whiteout hides only what lower layers wrote; the same layer's own entry stays (OCI spec).
  if (it != dir.children.end() && it->second->layer < layer) dir.children.erase(it);
}

void Tree::opaque(Node& dir, int layer) {
  std::erase_if(dir.children, [layer](const auto& kv) { return kv.second->layer < layer; });
}

bool Tree::apply(int layer, uint64_t entry_no, const Entry& e, std::string_view where) {
  if (++m_entries > m_limits.max_entries)
    throw Error(Exit::usage, fmt::format("{}: more than {} entries", where, m_limits.max_entries),
                "the image is too large or hostile", "raise --max-entries if the image is genuine");
  if (e.size > m_limits.max_total_bytes)
    throw Error(Exit::usage, fmt::format("{}: entry \"{}\" claims {} bytes", where, e.path, e.size),
                fmt::format("the limit is {} bytes", m_limits.max_total_bytes));
  auto parts = split_path(e.path, where);
  if (parts.empty()) {  // the root itself ("./")
    if (e.kind == Kind::directory && !e.is_hardlink) copy_meta(*m_root.inode, e);
    return false;
  }
  std::string name = parts.back();
  Node& parent = ensure_parents(parts, layer, where);

  if (name.starts_with(k_whiteout)) {
    if (name == k_opaque)
      opaque(parent, layer);
    else if (!name.starts_with(".wh..wh."))  // other ".wh..wh." names are aufs internals: skip
      remove_lower(parent, name.substr(k_whiteout.size()), layer);
    return false;
  }

  std::shared_ptr<Inode> inode;
  if (e.is_hardlink) {
    Node* target = find(e.link);
    if (!target)
      throw Error(Exit::usage,
                  fmt::format("{}: hardlink \"{}\" points to \"{}\", which does not exist", where, e.path, e.link));
    if (target->inode->kind == Kind::directory)
      throw Error(Exit::usage, fmt::format("{}: hardlink \"{}\" points to directory \"{}\"", where, e.path, e.link));
    if (target->parent == &parent && target->name == name) return false;  // a link to itself
    inode = target->inode;
  } else {
    auto existing = parent.children.find(name);
    if (e.kind == Kind::directory && existing != parent.children.end() &&
        existing->second->inode->kind == Kind::directory) {
      copy_meta(*existing->second->inode, e);  // a directory over a directory keeps its children
      existing->second->layer = layer;
      return false;
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
      if (e.size > 0) {
        inode->src_layer = layer;
        inode->src_entry = entry_no;
      }
    }
  }
  parent.children[name] = make_node(name, inode, layer, &parent);
  return inode->src_layer == layer && inode->src_entry == entry_no && !e.is_hardlink;
}

Inode& Tree::add_outside_file(std::string_view path, uint32_t mode, uint64_t size, std::string src_path) {
  auto parts = split_path(path, "--add-file");
  if (parts.empty()) throw Error(Exit::usage, fmt::format("--add-file: destination \"{}\" is the root", path));
  Node& parent = ensure_parents(parts, 1 << 30, "--add-file");
  auto inode = std::make_shared<Inode>();
  inode->mode = mode & 07777;
  inode->size = size;
  inode->src_path = std::move(src_path);
  auto& slot = parent.children[parts.back()];
  slot = make_node(parts.back(), inode, 1 << 30, &parent);
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
      st.content_blocks += (i.size + 4095) / 4096;
    }
  }
  if (st.content_bytes > m_limits.max_total_bytes)
    throw Error(Exit::usage, fmt::format("the image holds {} bytes of file content", st.content_bytes),
                fmt::format("the limit is {} bytes", m_limits.max_total_bytes));
  return st;
}

}  // namespace cube::rootfs
