// libFuzzer target: cube-sched's node-affinity selector (a JSON array from a request annotation)
// and its quantity parser (Gt/Lt values, --cpu). Any bytes are parsed or refused with cube::Error.
#include "cube-sched/quantity.hpp"
#include "cube-sched/selector.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cube::sched::parse_quantity(text);
  try {
    (void)cube::sched::parse_millicores(text, "--cpu");
  } catch (const cube::Error&) {
  }
  try {
    (void)cube::sched::parse_selector(text, {"example.com/extra"});
  } catch (const cube::Error&) {
  }
  return 0;
}
