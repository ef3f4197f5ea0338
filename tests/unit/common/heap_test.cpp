#include "heap.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

// prefault() is for more than the mmap threshold too (cube-rootfs' build faults in 16 MiB): in
// pieces under it, the bytes stay in the heap once freed, for the allocations that follow.
TEST(Heap, PrefaultPastTheMmapThresholdLeavesTheBytesInTheHeap) {
  cube::heap::keep_freed_memory();
  cube::heap::prefault(16 << 20);
  EXPECT_GE(mallinfo2().fordblks, size_t(16) << 20);
}
