// cube::rootfs::LayerScan — the first pass over one layer, on a thread of its own: its entries read
// into a list, the files of an inflated layer hashed, its inflated stream spooled.
//
// Why: a gzip layer's first pass is bound by its inflater, which runs on one thread. The tree must
// take the layers in order, but reading them need not wait for each other: with two cores, the
// next layer is inflated and read while the one before it still is, and the build thread applies
// each list to the tree once it is ready.
//
// Contract:
// - The constructor starts the thread; take() waits for it and gives the result, or rethrows what
//   it threw: a blob that does not parse has its digest checked first, so a tampered blob is
//   reported as one.
// - Entries are those of the archive, in order. sha256[i] is entry i's content hash when the scan
//   read its data (every regular file that is not sparse, in a layer that was inflated and spooled
//   or when `hash` asks for it); otherwise "". At most `limits.max_entries` entries are kept, and a
//   file larger than `limits.max_total_bytes` is refused before its data is read, with the tree's
//   own errors.
// - The destructor asks the thread to stop (it checks between entries and between blocks of data)
//   and joins it.
#pragma once

#include "archive_stream.hpp"
#include "image_source.hpp"
#include "layer_spool.hpp"
#include "layer_tree.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cube::rootfs {

// What pass 1 leaves a layer for pass 2: its inflated stream, and its digest once checked.
struct Spooled {
  std::unique_ptr<LayerSpool> spool;  // null: pass 2 reads (and inflates) the blob again
  std::string digest;                 // "" unless the blob was read whole and checked
};

struct ScannedLayer {
  std::vector<Entry> entries;
  std::vector<std::string> sha256;  // per entry
  Spooled spooled;
};

class LayerScan {
 public:
  LayerScan(const LayerRef& layer, const Limits& limits, bool hash, SpoolBudget& budget);
  ~LayerScan();
  LayerScan(const LayerScan&) = delete;
  LayerScan& operator=(const LayerScan&) = delete;

  ScannedLayer take();

 private:
  void run();
  void scan();
  void read_entries(TarReader& reader, bool hash_all);
  std::string hash_entry(TarReader& reader, uint64_t size);

  const LayerRef& m_layer;
  Limits m_limits;
  bool m_hash;
  SpoolBudget& m_budget;
  ScannedLayer m_out;
  std::exception_ptr m_error;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;  // last: started once everything above exists
};

}  // namespace cube::rootfs
