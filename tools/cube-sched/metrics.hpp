// cube::sched metrics — what a heartbeat measures on this host when not told: CPU utilisation from
// /proc/stat, free memory (MemAvailable) from /proc/meminfo, and the disk usage of the node's store
// from statvfs.
#pragma once

#include <cstdint>
#include <string>

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
// Percent of the file system holding `path` in use, as df counts it: used / (used + available to
// unprivileged users), so the root reserve counts as full.
double disk_used_percent(const std::string& path);

}  // namespace cube::sched
