// cube::chunk_size — how many bytes to move per read or write call on a stream of unknown length.
//
// Each call has a fixed cost, and each fresh page of the buffer a page fault the first time it is
// touched (in a VM, more than reading the page). Growing the chunk with the square root of the
// bytes moved so far balances the two: a short job (`cube-logs --tail 10`) touches two pages, a
// long one soon makes few calls. The result is a whole number of pages within [min, max].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace cube {

inline size_t chunk_size(uint64_t moved, size_t min, size_t max) {
  double balanced = std::sqrt(static_cast<double>(moved) * 2048);
  auto size = static_cast<size_t>(std::clamp(balanced, static_cast<double>(min), static_cast<double>(max)));
  return size & ~size_t{4095};
}

}  // namespace cube
