// libFuzzer target: the TOML config file (common/config.hpp) with every tool's table read the way
// the tools read it. Any text parses or is refused with cube::Error.
#include "config.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cube::config;
  try {
    Config cfg = Config::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
    for (const char* table : {"logs", "sched", "tap", "rootfs", "versions", "egress"}) {
      Settings s(cfg, table);
      try {
        (void)s.text("root", "/x");
        (void)s.integer("max_files", 5);
        (void)s.number("cpu_util_ceiling", 80);
        (void)s.boolean("flag", false);
        (void)s.duration_ms("grace", "7d");
        (void)s.size("max_size", "10M");
      } catch (const cube::Error&) {
      }
    }
  } catch (const cube::Error&) {
  }
  return 0;
}
