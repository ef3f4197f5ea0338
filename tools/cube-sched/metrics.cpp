#include "metrics.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include "error.hpp"
#include "fs.hpp"

#include <sstream>
#include <string>

namespace cube::sched {

CpuTimes read_cpu_times() {
  std::istringstream in(fs::read_file("/proc/stat", 1 << 20));
  std::string label;
  in >> label;
  if (label != "cpu") throw Error(Exit::failed, "reading /proc/stat", "no aggregate \"cpu\" line");
  CpuTimes t;
  uint64_t v = 0;
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  for (int field = 0; field < 8 && in >> v; ++field) {
    t.total += v;
    if (field == 3 || field == 4) t.idle += v;
  }
  return t;
}

double cpu_util_between(const CpuTimes& earlier, const CpuTimes& later) {
  if (later.total <= earlier.total) return 0;
  double total = static_cast<double>(later.total - earlier.total);
  double idle = static_cast<double>(later.idle >= earlier.idle ? later.idle - earlier.idle : 0);
  double util = 100.0 * (1.0 - idle / total);
  return util < 0 ? 0 : util > 100 ? 100 : util;
}

int64_t read_mem_available() {
  std::istringstream in(fs::read_file("/proc/meminfo", 1 << 20));
  std::string key, unit;
  int64_t kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  throw Error(Exit::failed, "reading /proc/meminfo", "no MemAvailable line (kernel older than 3.14?)");
}

double disk_used_percent(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0)
    throw sys_error(errno, fmt::format("measuring the disk usage of {}", path),
                    errno == ENOENT ? Exit::usage : Exit::failed);
  double used = static_cast<double>(st.f_blocks - st.f_bfree);
  double room = used + static_cast<double>(st.f_bavail);
  return room > 0 ? 100.0 * used / room : 0;
}

}  // namespace cube::sched
