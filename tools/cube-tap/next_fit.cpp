#include "next_fit.hpp"

namespace cube::tap {

std::optional<uint32_t> first_free(uint32_t from, uint32_t to, const UsedScan& used, const Skip& skip) {
  if (from > to) return std::nullopt;
  std::optional<uint32_t> next = used();
  for (uint64_t c = from; c <= to; ++c) {
    while (next && *next < c) next = used();
    if (next && *next == c) continue;
    if (skip && skip(static_cast<uint32_t>(c))) continue;
    return static_cast<uint32_t>(c);
  }
  return std::nullopt;
}

std::optional<uint32_t> next_fit(uint32_t lo, uint32_t hi, uint32_t cursor, const OpenScan& open, const Skip& skip) {
  if (cursor < hi) {
    uint32_t from = cursor < lo ? lo : cursor + 1;
    if (auto slot = first_free(from, hi, open(from), skip)) return slot;
  }
  uint32_t to = cursor < hi ? cursor : hi;
  return first_free(lo, to, open(lo), skip);
}

}  // namespace cube::tap
