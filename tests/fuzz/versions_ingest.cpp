// libFuzzer target: `cube-versions ingest`'s parser of the JSON Lines a node reports. Any bytes
// either parse into components or are refused with cube::Error; nothing else may happen.
#include "cube-versions/report.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)cube::versions::parse_report(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const cube::Error&) {
  }
  return 0;
}
