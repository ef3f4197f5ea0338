// cube::sched metrics — what a heartbeat measures on this host when not told: CPU utilisation from
// /proc/stat and free memory (MemAvailable) from /proc/meminfo.
#pragma once

#include <cstdint>

namespace cube::sched {

struct CpuTimes {
  uint64_t idle = 0;   // idle + iowait
  uint64_t total = 0;  // every field of the "cpu" line
};

CpuTimes read_cpu_times();
// Percent busy between two samples; 0 when no time passed.
double cpu_util_between(const CpuTimes& earlier, const CpuTimes& later);
// MemAvailable in bytes.
int64_t read_mem_available();

}  // namespace cube::sched
