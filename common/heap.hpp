// How a tool's process uses its heap: page faults are most of a short command's start on a VM
// (doc/cube-sandbox.md, "Where the rest goes: page faults").
#pragma once

#include <cstddef>

namespace cube::heap {

// For a command that ends in milliseconds: freed memory stays in the heap, since giving it back to
// the kernel (munmap, heap trims) is pure cost for a process about to exit.
void keep_freed_memory();

// Faults BYTES of heap in with one madvise a MiB and frees them, so the allocations that follow
// land on pages already there instead of faulting one page at a time. Only after
// keep_freed_memory(), or the free gives the pages straight back. Best effort: a kernel before
// 5.14 refuses the advice.
void prefault(size_t bytes);

// For a command whose threads allocate a little at a time: every thread allocates from the main
// heap (one malloc arena), which prefault() has faulted in, where a thread's own arena would grow
// a page fault at a time.
void one_arena();

// Faults in the whole pages of [p, p + bytes) with one madvise: for a large buffer about to be
// filled, such as one from calloc, which leaves a fresh mapping untouched. Best effort, as above.
void populate(void* p, size_t bytes);

}  // namespace cube::heap
