#include "heap.hpp"

#include <malloc.h>
#include <sys/mman.h>

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
  constexpr uintptr_t k_page = 4096;
  void* block = std::malloc(bytes);
  if (!block) return;
  auto begin = (reinterpret_cast<uintptr_t>(block) + k_page - 1) & ~(k_page - 1);
  auto end = (reinterpret_cast<uintptr_t>(block) + bytes) & ~(k_page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  std::free(block);
}

}  // namespace cube::heap
