// cube::logs::confine — the reader's seccomp allowlist, loaded once its files are open: reads,
// writes to stdout and stderr only, fstat/lseek/close, memory, and for --follow inotify, poll and
// the opens that find a rotated file (openat2 beneath the log directory).
#pragma once

#include <string>

namespace cube::logs {

enum class Following { no, yes };

void confine(Following following);
// The filter as PFC text (what confine() would load), for review and tests.
std::string confine_pfc(Following following);

}  // namespace cube::logs
