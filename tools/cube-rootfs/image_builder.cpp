#include "image_builder.hpp"

#include "error.hpp"
#include "ext4_writer.hpp"
#include "fs.hpp"
#include "json_writer.hpp"
#include "layer_spool.hpp"
#include "log.hpp"
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

constexpr uint64_t k_max_blob = uint64_t(64) << 30;  // one layer blob as stored

// Removes the partial image unless the build got to the end.
class PartFile {
 public:
  explicit PartFile(std::string path) : m_path(std::move(path)) { ::unlink(m_path.c_str()); }
  ~PartFile() {
    if (!m_kept) ::unlink(m_path.c_str());
  }
  const std::string& path() const { return m_path; }
  void keep() { m_kept = true; }

 private:
  std::string m_path;
  bool m_kept = false;
};

// The SHA-256 of an entry that is not sparse, read whole: its blocks follow each other from 0 to
// its size. "" if they do not (the writer hashes it then).
std::string hash_entry(TarReader& r, uint64_t size) {
  Sha256 sha;
  DataBlock b;
  uint64_t pos = 0;
  bool whole = true;
  while (r.block(b)) {
    whole = whole && static_cast<uint64_t>(b.offset) == pos;
    sha.update(b.data, b.size);
    pos = static_cast<uint64_t>(b.offset) + b.size;
  }
  return whole && pos == size ? sha.hex() : std::string();
}

// What pass 1 leaves a gzip layer for pass 2: its inflated stream and its checked digest.
struct Spooled {
  std::unique_ptr<LayerSpool> spool;  // null: pass 2 reads (and inflates) the blob again
  std::string digest;
};

bool is_gzip(const LayerRef& layer) {
  LayerStream stream(layer);
  const void* d = nullptr;
  size_t n = stream.source().read(&d);
  const auto* b = static_cast<const unsigned char*>(d);
  return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

// `hash_all`: the layer is inflated and spooled, so its data is read here whether or not it is
// hashed, and pass 2 writes these very bytes from the spool. Each file's SHA-256 is taken here then,
// on a thread that would otherwise wait for the inflater, and not again in pass 2.
void read_headers(TarReader& reader, int layer, Tree& tree, const BuildOptions& opt, bool hash_all) {
  Entry e;
  while (reader.next(e)) {
    uint64_t entry = reader.entry_index() - 1;
    bool data = tree.apply(layer, entry, e, reader.where());
    // A sparse file is not hashed here: hashing it would read its holes, which cost nothing to
    // declare; the size check bounds them only later, against the image.
    Node* n = data && !e.sparse && (hash_all || opt.dedup_hardlink) ? tree.lookup(e.path) : nullptr;
    if (n && n->inode->src_layer == layer && n->inode->src_entry == entry)
      n->inode->sha256 = hash_entry(reader, e.size);
    else
      reader.skip_data();
  }
}

// A layer that does not parse may simply not be the blob its descriptor names: its digest is
// checked then, so a tampered blob is reported as one, not as whatever its bytes happen to break.
[[noreturn]] void rethrow_checked(const LayerRef& layer) {
  std::exception_ptr first = std::current_exception();
  if (!layer.expect.digest.empty()) {
    LayerStream stream(layer);
    Verifier verifier(stream.source(), layer.name, layer.expect, k_max_blob);
    const void* d = nullptr;
    while (verifier.read(&d) > 0) {
    }
    verifier.finish();  // throws on a mismatch
  }
  std::rethrow_exception(first);
}

// A gzip layer is read whole in pass 1 anyway (an inflated stream cannot be seeked), so its digest
// is checked here and its inflated bytes are kept for pass 2.
Spooled scan_layer_unchecked(const LayerRef& layer, int index, Tree& tree, const BuildOptions& opt,
                             SpoolBudget& budget) {
  Spooled out;
  LayerStream stream(layer);
  std::optional<Verifier> verifier;
  if (!budget.dir.empty() && is_gzip(layer)) {
    verifier.emplace(stream.source(), layer.name, layer.expect, k_max_blob);
    out.spool = std::make_unique<LayerSpool>(budget, layer.name);
  }
  {
    TarReader reader(verifier ? *verifier : stream.source(), layer.name, Reading::skim, out.spool.get());
    read_headers(reader, index, tree, opt, out.spool != nullptr);
  }
  if (!verifier) return out;
  verifier->finish();
  out.digest = verifier->digest();
  if (!out.spool->usable()) out.spool.reset();
  return out;
}

Spooled scan_layer(const LayerRef& layer, int index, Tree& tree, const BuildOptions& opt, SpoolBudget& budget) {
  try {
    return scan_layer_unchecked(layer, index, tree, opt, budget);
  } catch (const Error&) {
    rethrow_checked(layer);
  }
}

// Pass 1: every layer's headers into the tree. Data is skipped (seeked over in uncompressed blobs)
// unless it is hashed: for --dedup-hardlink, or because an inflated layer is read whole anyway.
std::vector<Spooled> scan_layers(ImageSource& src, Tree& tree, const BuildOptions& opt, BuildResult& res) {
  SpoolBudget budget = SpoolBudget::for_dir(opt.spool_dir);
  std::vector<Spooled> spooled;
  for (size_t i = 0; i < src.layers.size(); ++i) {
    if (opt.progress) opt.progress("UNPACKING", static_cast<int>(100 * i / src.layers.size()));
    spooled.push_back(scan_layer(src.layers[i], static_cast<int>(i), tree, opt, budget));
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
        Verifier verifier(stream.source(), layer.name, layer.expect, k_max_blob);
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

  PartFile part(opt.output + ".part");
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
  if (::rename(part.path().c_str(), opt.output.c_str()) != 0) throw sys_error(errno, "renaming to " + opt.output);
  part.keep();
  res.image_bytes = params.bytes;
  res.allocated_bytes = allocated(opt.output);
  return res;
}

}  // namespace cube::rootfs
