// cube::logs allowlist — the reader's seccomp allowlist, in one place: reads, writes to stdout and
// stderr only, fstat/lseek/close, memory, and for --follow poll and the opens that find a rotated
// file (openat2 beneath the log directory). It is compiled to BPF at build time (gen/filter-gen.cpp
// writes build/gen/cube-logs-filter.hpp) and loaded from there by confine().
#pragma once

#include "seccomp.hpp"

namespace cube::logs {

enum class Following { no, yes };

seccomp::Filter reader_allowlist(Following following);

}  // namespace cube::logs
