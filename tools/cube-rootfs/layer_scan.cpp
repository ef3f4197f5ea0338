#include "layer_scan.hpp"

#include "error.hpp"
#include "read_ahead.hpp"
#include "sha256.hpp"

#include <optional>

namespace cube::rootfs {
namespace {

struct Stopped {};  // thrown on the scan's thread when its owner no longer wants the result

bool is_gzip(const LayerRef& layer) {
  LayerStream stream(layer);
  const void* d = nullptr;
  size_t n = stream.source().read(&d);
  const auto* b = static_cast<const unsigned char*>(d);
  return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

}  // namespace

LayerScan::LayerScan(const LayerRef& layer, const Limits& limits, bool hash, SpoolBudget& budget)
    : m_layer(layer), m_limits(limits), m_hash(hash), m_budget(budget), m_thread([this] { run(); }) {}

LayerScan::~LayerScan() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

ScannedLayer LayerScan::take() {
  m_thread.join();
  if (m_error) std::rethrow_exception(m_error);
  return std::move(m_out);
}

void LayerScan::run() {
  try {
    try {
      scan();
    } catch (const Error&) {
      rethrow_checked(m_layer);
    }
  } catch (const Stopped&) {
  } catch (...) {
    m_error = std::current_exception();
  }
}

// A gzip layer is read whole here anyway (an inflated stream cannot be seeked), so its digest is
// checked here and its inflated bytes are kept for pass 2.
void LayerScan::scan() {
  LayerStream stream(m_layer);
  std::optional<Verifier> verifier;
  Spooled& out = m_out.spooled;
  if (!m_budget.dir.empty() && is_gzip(m_layer)) {
    verifier.emplace(stream.source(), m_layer.name, m_layer.expect, k_max_layer_blob);
    out.spool = std::make_unique<LayerSpool>(m_budget, m_layer.name);
  }
  {
    // The blob is read and hashed on a thread of its own, ahead of the inflater: a layer's gzip
    // stream is inflated on one thread, and that thread should do nothing else.
    std::optional<ReadAhead> raw;
    if (verifier) raw.emplace(*verifier);
    TarReader reader(raw ? static_cast<ByteSource&>(*raw) : stream.source(), m_layer.name, Reading::skim,
                     out.spool.get());
    read_entries(reader, out.spool != nullptr);
  }  // the read-ahead has stopped: the rest of the blob is the verifier's again
  if (!verifier) return;
  verifier->finish();
  out.digest = verifier->digest();
  if (!out.spool->usable()) out.spool.reset();
}

// `hash_all`: the layer is inflated and spooled, so its data is read whether or not it is hashed,
// and pass 2 writes these very bytes from the spool; each file is hashed here then, not in pass 2.
// A sparse file is never hashed here: that would read its holes, which cost nothing to declare.
void LayerScan::read_entries(TarReader& reader, bool hash_all) {
  Entry e;
  while (reader.next(e)) {
    if (m_stop) throw Stopped{};
    check_entry(m_limits, reader.entry_index(), e, reader.where());
    bool hash = (hash_all || m_hash) && e.kind == Kind::regular && e.size > 0 && !e.sparse;
    if (hash)
      m_out.sha256.push_back(hash_entry(reader, e.size));
    else {
      m_out.sha256.emplace_back();
      reader.skip_data();
    }
    m_out.entries.push_back(std::move(e));
  }
}

// The SHA-256 of an entry that is not sparse, read whole: its blocks follow each other from 0 to
// its size. "" if they do not (the writer hashes it then).
std::string LayerScan::hash_entry(TarReader& reader, uint64_t size) {
  Sha256 sha;
  DataBlock b;
  uint64_t pos = 0;
  bool whole = true;
  while (reader.block(b)) {
    if (m_stop) throw Stopped{};
    whole = whole && static_cast<uint64_t>(b.offset) == pos;
    sha.update(b.data, b.size);
    pos = static_cast<uint64_t>(b.offset) + b.size;
  }
  return whole && pos == size ? sha.hex() : std::string();
}

}  // namespace cube::rootfs
