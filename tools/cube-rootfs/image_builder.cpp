#include "image_builder.hpp"

#include "error.hpp"
#include "ext4_writer.hpp"
#include "fs.hpp"
#include "json_writer.hpp"
#include "layer_scan.hpp"
#include "layer_spool.hpp"
#include "log.hpp"
#include "part_file.hpp"
#include "sha256.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

namespace cube::rootfs {
namespace {

// A scanned layer's entries into the tree. A file's hash from the scan goes with the inode it
// gives its bytes to.
void apply_layer(ScannedLayer& layer, int index, Tree& tree, const std::string& name) {
  for (uint64_t k = 0; k < layer.entries.size(); ++k) {
    const Entry& e = layer.entries[k];
    Inode* data = tree.apply(index, k, e, entry_where(name, k + 1, e.path));
    if (data) data->sha256 = std::move(layer.sha256[k]);
  }
}

// Pass 1: every layer's entries into the tree, in order. Each layer is read on its own thread
// (layer_scan.hpp), two at a time; this thread applies each one's list once it is ready.
std::vector<Spooled> scan_layers(ImageSource& src, Tree& tree, const BuildOptions& opt, BuildResult& res) {
  SpoolBudget budget = SpoolBudget::for_dir(opt.spool_dir);
  size_t n = src.layers.size();
  std::vector<std::unique_ptr<LayerScan>> scans(n);
  auto start = [&](size_t i) {
    if (i < n) scans[i] = std::make_unique<LayerScan>(src.layers[i], opt.limits, opt.dedup_hardlink, budget);
  };
  start(0);
  start(1);
  std::vector<Spooled> spooled;
  for (size_t i = 0; i < n; ++i) {
    if (opt.progress) opt.progress("UNPACKING", static_cast<int>(100 * i / n));
    ScannedLayer layer = scans[i]->take();
    scans[i].reset();
    start(i + 2);
    apply_layer(layer, static_cast<int>(i), tree, src.layers[i].name);
    spooled.push_back(std::move(layer.spooled));
  }
  res.entries = tree.entries_seen();
  return spooled;
}

// Every node, parents before children; a list, not recursion, however deep the tree.
void for_each_node(Node& root, const std::function<void(Node&)>& fn) {
  std::vector<Node*> todo{&root};
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    fn(*n);
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) todo.push_back(it->second.get());
  }
}

// Names of regular files with the same bytes and the same metadata become hardlinks of one inode.
uint64_t dedup(Tree& tree) {
  using Key = std::tuple<std::string, uint32_t, uint32_t, uint32_t, int64_t, uint32_t,
                         std::vector<std::pair<std::string, std::string>>>;
  std::map<Key, std::shared_ptr<Inode>> canon;
  uint64_t merged = 0;
  for_each_node(tree.root(), [&](Node& n) {
    Inode& i = *n.inode;
    if (i.kind != Kind::regular || i.sha256.empty() || i.src_layer < 0) return;
    Key k{i.sha256, i.mode, i.uid, i.gid, i.mtime_sec, i.mtime_nsec, i.xattrs};
    auto [it, fresh] = canon.emplace(std::move(k), n.inode);
    if (!fresh && it->second != n.inode) {
      n.inode = it->second;
      ++merged;
    }
  });
  return merged;
}

// Pass 2: for each layer, the entries whose bytes survive, in archive order.
std::vector<std::vector<std::pair<uint64_t, Inode*>>> needed_entries(Tree& tree, size_t layers) {
  std::vector<std::vector<std::pair<uint64_t, Inode*>>> need(layers);
  std::set<Inode*> seen;
  for_each_node(tree.root(), [&](Node& n) {
    Inode* i = n.inode.get();
    if (i->src_layer >= 0 && seen.insert(i).second) need[i->src_layer].emplace_back(i->src_entry, i);
  });
  for (auto& v : need) std::sort(v.begin(), v.end());
  return need;
}

void write_entries(TarReader& reader, const std::vector<std::pair<uint64_t, Inode*>>& need, Ext4Writer& w,
                   const std::string& name) {
  size_t next = 0;
  Entry e;
  while (reader.next(e)) {
    if (next < need.size() && reader.entry_index() - 1 == need[next].first) {
      w.write_content(*need[next].second, reader);
      ++next;
    } else {
      reader.skip_data();
    }
  }
  if (next < need.size())
    throw Error(Exit::usage, fmt::format("{} ended early on the second read", name),
                "the blob changed while it was being read");
}

// Pass 2 reads every blob whole through a Verifier, so each digest and size is checked; a
// mismatch fails the build and the partial image is removed. A spooled layer was checked in pass 1
// and is read as plain tar from its spool, seeking over what is not needed.
void write_layers(ImageSource& src, Tree& tree, Ext4Writer& w, const BuildOptions& opt, BuildResult& res,
                  std::vector<Spooled>& spooled) {
  auto need = needed_entries(tree, src.layers.size());
  for (size_t i = 0; i < src.layers.size(); ++i) {
    if (opt.progress) opt.progress("BUILDING_EXT4", static_cast<int>(100 * i / src.layers.size()));
    const LayerRef& layer = src.layers[i];
    std::string digest = spooled[i].digest;
    if (spooled[i].spool) {
      log::debug("{}: read from its spool ({} bytes), not inflated again", layer.name, spooled[i].spool->bytes());
      auto plain = spooled[i].spool->reopen();
      TarReader reader(*plain, layer.name);
      write_entries(reader, need[i], w, layer.name);
      spooled[i].spool.reset();  // its space goes back before the next layer
    } else {
      try {
        LayerStream stream(layer);
        Verifier verifier(stream.source(), layer.name, layer.expect, k_max_layer_blob);
        {
          TarReader reader(verifier, layer.name, Reading::whole);
          write_entries(reader, need[i], w, layer.name);
        }
        verifier.finish();
        digest = verifier.digest();
      } catch (const Error&) {
        rethrow_checked(layer);
      }
    }
    res.layer_digests.push_back(digest);
    if (src.type == SourceType::rootfs_tar) src.digest = digest;
  }
  for_each_node(tree.root(), [&](Node& n) {
    Inode& i = *n.inode;
    if ((!i.src_path.empty() || i.has_inline) && i.sha256.empty()) w.write_outside(i);
  });
}

}  // namespace

// SHA-256 of a sparse file: holes are fed as zeros from memory instead of being read, which spares
// the kernel zero-filling pages for a mostly empty image.
std::string hash_sparse_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw sys_error(errno, "opening " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(errno, "reading " + path);
  Sha256 sha;
  std::vector<char> buf(4 << 20);
  static const std::vector<char> zeros(1 << 20, 0);
  off_t pos = 0, end = st.st_size;
  while (pos < end) {
    off_t data = ::lseek(fd.get(), pos, SEEK_DATA);
    if (data < 0) data = end;  // ENXIO: only a hole is left
    for (; pos < data; pos += std::min<off_t>(data - pos, zeros.size()))
      sha.update(zeros.data(), static_cast<size_t>(std::min<off_t>(data - pos, zeros.size())));
    off_t hole = data < end ? ::lseek(fd.get(), data, SEEK_HOLE) : end;
    if (hole < 0) hole = end;
    while (pos < hole) {
      ssize_t n = ::pread(fd.get(), buf.data(), static_cast<size_t>(std::min<off_t>(hole - pos, buf.size())), pos);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw sys_error(n < 0 ? errno : EIO, "reading " + path);
      sha.update(buf.data(), static_cast<size_t>(n));
      pos += n;
    }
  }
  return sha.hex();
}

namespace {

uint64_t allocated(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

}  // namespace

std::string files_jsonl(Tree& tree) {
  std::string out;
  json::Writer w;
  std::vector<std::pair<std::string, const Node*>> rows;
  for_each_node(tree.root(), [&](Node& n) { rows.emplace_back(node_path(n), &n); });
  std::sort(rows.begin(), rows.end());
  for (const auto& [path, n] : rows) {
    const Inode& i = *n->inode;
    w.clear();
    w.begin_object();
    w.field("path", path);
    w.field("type", kind_name(i.kind));
    w.field("mode", fmt::format("{:04o}", i.mode));
    w.field("uid", static_cast<int64_t>(i.uid));
    w.field("gid", static_cast<int64_t>(i.gid));
    w.field("size", static_cast<int64_t>(i.kind == Kind::directory ? 0 : i.size));
    if (i.kind == Kind::regular) w.field("sha256", i.size == 0 ? sha256_hex("") : i.sha256);
    w.end_object();
    out += w.str();
    out += '\n';
  }
  return out;
}

BuildResult build_image(ImageSource& src, const BuildOptions& opt) {
  BuildResult res;
  Tree tree(opt.limits);
  std::vector<Spooled> spooled = scan_layers(src, tree, opt, res);
  for (const auto& a : opt.add_files) {
    struct stat st {};
    if (::stat(a.src.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error(Exit::usage, fmt::format("--add-file: \"{}\" is not a readable regular file", a.src));
    tree.add_outside_file(a.dest, a.mode, static_cast<uint64_t>(st.st_size), a.src);
  }
  if (opt.edit_tree) res.edited = opt.edit_tree(tree);
  if (opt.dedup_hardlink) res.deduplicated = dedup(tree);
  // Pass 2 hashes what pass 1 could not vouch for: a layer read again from its blob, and a file
  // that gets bytes appended.
  for_each_node(tree.root(), [&](Node& n) {
    Inode& i = *n.inode;
    if (i.src_layer >= 0 && (!spooled[static_cast<size_t>(i.src_layer)].spool || !i.append.empty())) i.sha256.clear();
  });
  res.stats = tree.finish();
  FsParams params = plan_size(res.stats, opt.size, model_knobs_from_env());
  if (opt.before_write) opt.before_write(params);

  fs::PartFile part(opt.output);
  {
    Ext4Writer w(part.path(), params);
    w.write_tree(tree.root());
    write_layers(src, tree, w, opt, res, spooled);
    w.close();
  }
  res.source_digest = src.digest;
  if (opt.progress) opt.progress("BUILDING_EXT4", 100);
  if (opt.hash_image) res.image_sha256 = hash_sparse_file(part.path());
  if (!opt.files_jsonl.empty()) fs::atomic_write(opt.files_jsonl, files_jsonl(tree), 0644);
  part.commit(opt.replace_output);
  res.image_bytes = params.bytes;
  res.allocated_bytes = allocated(opt.output);
  return res;
}

}  // namespace cube::rootfs
