// libFuzzer target: cube-logs' reader over any file a sandbox may leave in its log directory. The
// bytes become a log file (split at the first byte's choice into a rotated file and the current
// one); then the CRI line parser on every line, and the scans the reader runs: the backward tail
// scan, the forward head scan, the binary search by time, the order check and the logical-line
// alignment. None may crash, hang, read out of bounds or return an offset outside the range.
#include "cube-logs/chain.hpp"
#include "cube-logs/cri.hpp"
#include "cube-logs/scan.hpp"

#include <sys/mman.h>
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace cube::logs;

namespace {

cube::Fd file_of(std::string_view bytes) {
  cube::Fd fd(::memfd_create("log", MFD_CLOEXEC));
  if (!fd || ::write(fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::abort();
  return fd;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
  for (std::string_view rest = all; !rest.empty();) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    cri::Record r;
    cri::Fields f;
    int64_t t = 0;
    (void)cri::parse(line, r);
    (void)cri::split(line, f);
    (void)cri::is_partial(line.substr(0, 64));
    (void)cri::parse_time(line, t);
  }
  Chain chain;
  chain.add_oldest(Segment{file_of(all.substr(cut)), "stdout", all.size() - cut, 0, 0});
  if (cut > 0) chain.add_oldest(Segment{file_of(all.substr(0, cut)), "stdout.1", cut, 0, 1});
  uint64_t end = chain.size();
  uint64_t n = data[0] % 7;
  for (Lines lines : {Lines::stored, Lines::logical}) {
    check(tail_start(chain, 0, end, n, lines) <= end);
    check(head_end(chain, 0, end, n, lines) <= end);
  }
  int64_t t = 0;
  if (cri::parse_time(all, t)) {
    uint64_t at = time_bound(chain, 0, end, t);
    check(at <= end);
    check(line_start(chain, 0, at, end) <= end);
  }
  check(time_bound(chain, 0, end, 1'800'000'000'000'000'000) <= end);
  check(first_out_of_order(chain, 0, end) <= end);
  return 0;
}
