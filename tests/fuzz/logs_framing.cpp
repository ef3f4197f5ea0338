// libFuzzer target: cube-logs' forwarder input side. The bytes are what a guest sends on the
// socket/vsock channel (the framed multiplex), fed in pieces whose sizes the input also picks;
// the Demux splits them into streams and the Framers cut CRI records. An unknown stream byte may
// be refused (cube::Error), nothing else: every record must end in a newline, carry at most
// cri::k_max_text bytes of text and parse back as a CRI record.
#include "cube-logs/cri.hpp"
#include "cube-logs/framer.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace cube::logs;

namespace {

void check_records(std::string_view out) {
  while (!out.empty()) {
    size_t nl = out.find('\n');
    if (nl == std::string_view::npos) std::abort();
    cri::Record r;
    if (!cri::parse(out.substr(0, nl), r) || r.text.size() > cri::k_max_text) std::abort();
    out.remove_prefix(nl + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string stamp = "2026-11-29T19:48:53.123456789Z";
  Demux demux;
  Framer out(cri::Stream::out), err(cri::Stream::err);
  std::string recs;
  try {
    while (!in.empty()) {
      std::string_view piece = in.substr(0, step);
      in.remove_prefix(piece.size());
      while (!piece.empty()) {
        Demux::Piece p = demux.next(piece);
        recs.clear();
        (p.stream == cri::Stream::out ? out : err).feed(p.data, stamp, recs);
        check_records(recs);
      }
    }
  } catch (const cube::Error&) {
    return 0;
  }
  recs.clear();
  out.finish(stamp, true, recs);
  err.finish(stamp, false, recs);
  check_records(recs);
  return 0;
}
