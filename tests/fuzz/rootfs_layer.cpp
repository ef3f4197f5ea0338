// libFuzzer target: a layer (tar, possibly gzip or zstd) through cube-rootfs's build path — the tar
// reader, the layer tree with OCI semantics, the sizing model and the ext4 writer into a temporary
// image — and the image read back by inspect's lister. Bad input must end as cube::Error, never a
// crash, a hang or unbounded memory.
#include "cube-rootfs/archive_stream.hpp"
#include "cube-rootfs/ext4_lister.hpp"
#include "cube-rootfs/ext4_writer.hpp"
#include "cube-rootfs/layer_tree.hpp"
#include "cube-rootfs/sizing.hpp"
#include "error.hpp"
#include "scratch.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace cube::rootfs;

// The fuzz input as one chunk; skip() seeks inside it, as a file source would.
class MemSource : public ByteSource {
 public:
  MemSource(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}
  size_t read(const void** out) override {
    size_t n = std::min<size_t>(m_size - m_pos, 4096);
    *out = m_data + m_pos;
    m_pos += n;
    return n;
  }
  int64_t skip(int64_t n) override {
    size_t k = std::min<size_t>(static_cast<size_t>(n), m_size - m_pos);
    m_pos += k;
    return static_cast<int64_t>(k);
  }

 private:
  const uint8_t* m_data;
  size_t m_size, m_pos = 0;
};

std::string image_path() { return cube::fuzz::scratch_path("rootfs-layer"); }

void build(const uint8_t* data, size_t size) {
  Limits limits;
  limits.max_entries = 20000;
  limits.max_total_bytes = 8 << 20;
  Tree tree(limits);
  std::map<uint64_t, Inode*> wanted;
  {
    MemSource src(data, size);
    TarReader reader(src, "fuzz layer");
    Entry e;
    while (reader.next(e)) {
      if (tree.apply(0, reader.entry_index() - 1, e, reader.where())) wanted[reader.entry_index() - 1] = nullptr;
      reader.skip_data();
    }
  }
  TreeStats st = tree.finish();
  SizeRequest req;
  req.mode = SizeMode::exact;
  FsParams params = plan_size(st, req, ModelKnobs{});
  std::vector<Inode*> inodes;
  std::vector<Node*> todo{&tree.root()};
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    if (n->inode->src_layer == 0 && wanted.count(n->inode->src_entry)) wanted[n->inode->src_entry] = n->inode.get();
    for (auto& [_, c] : n->children) todo.push_back(c.get());
  }
  ::unlink(image_path().c_str());
  {
    Ext4Writer w(image_path(), params);
    w.write_tree(tree.root());
    MemSource src(data, size);
    TarReader reader(src, "fuzz layer", Reading::whole);
    Entry e;
    while (reader.next(e)) {
      auto it = wanted.find(reader.entry_index() - 1);
      if (it != wanted.end() && it->second)
        w.write_content(*it->second, reader);
      else
        reader.skip_data();
    }
    w.close();
  }
  (void)list_image(image_path(), true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    build(data, size);
  } catch (const cube::Error&) {
  }
  ::unlink(image_path().c_str());
  return 0;
}
