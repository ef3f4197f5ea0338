// libFuzzer target: the parsers every flag and config value goes through (common/units.hpp,
// common/timeutil.hpp) and the escaping every message goes through (common/escape.hpp). Parsers
// return a value or throw cube::Error; the escaped text must hold no control byte.
#include "units.hpp"
#include "error.hpp"
#include "escape.hpp"
#include "timeutil.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace cube;
  auto quiet = [](auto fn) {
    try {
      fn();
    } catch (const Error&) {
    }
  };
  quiet([&] { (void)units::parse_duration_ms(text, "--grace"); });
  quiet([&] { (void)units::parse_size(text, "--max-size"); });
  quiet([&] { (void)units::parse_integer(text, -5, 1000, "--max-files"); });
  quiet([&] { (void)units::parse_real(text, 0, 100, "--cpu-util"); });
  int64_t ns = 0;
  if (time::parse_rfc3339(text, ns)) (void)time::rfc3339_nano(ns);
  for (unsigned char c : escape_controls(text))
    if (c < 0x20 || c == 0x7f) std::abort();
  return 0;
}
