// libFuzzer target: cube-egress-rules' policy JSON parser and compiler (policy.hpp, compiled.hpp)
// on any text. Bad input must end as cube::Error, never as a crash or another exception.
#include "cube-egress-rules/compiled.hpp"
#include "cube-egress-rules/policy.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cube::egress;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)compile(parse_policy(text));
  } catch (const cube::Error&) {
  }
  try {
    (void)parse_rule(text);
  } catch (const cube::Error&) {
  }
  return 0;
}
