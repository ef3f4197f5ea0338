#include "heap.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack the name
#endif

namespace cube::heap {

// libnftables and libnl allocate their netlink buffers (132 KiB each) above glibc's 128 KiB mmap
// threshold, so each free was a munmap, a TLB flush on every CPU the process touched; on this VM
// those munmaps and the heap trims were a fifth of `cube-egress-rules set --apply`.
void keep_freed_memory() {
  ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

// One madvise populates a page for a small part of what a fault costs on a VM whose page tables are
// shadowed (~1.5 us against 10-30 us), and the heap a short command grows page by page was a
// quarter of its faults.
void prefault(size_t bytes) {
  // In pieces under the mmap threshold, so that they come from the heap and stay there once freed;
  // each piece holds the address of the one before, to be freed in the end.
  constexpr size_t k_piece = 1 << 20;
  void* last = nullptr;
  for (size_t done = 0; done < bytes; done += k_piece) {
    size_t n = std::max(std::min(k_piece, bytes - done), sizeof(void*));
    void* block = std::malloc(n);
    if (!block) break;
    populate(block, n);
    *static_cast<void**>(block) = last;
    last = block;
  }
  while (last) {
    void* before = *static_cast<void**>(last);
    std::free(last);
    last = before;
  }
}

void one_arena() { ::mallopt(M_ARENA_MAX, 1); }

void populate(void* p, size_t bytes) {
  constexpr uintptr_t k_page = 4096;
  auto begin = (reinterpret_cast<uintptr_t>(p) + k_page - 1) & ~(k_page - 1);
  auto end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(k_page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

}  // namespace cube::heap
