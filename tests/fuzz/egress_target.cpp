// libFuzzer target: cube-egress-rules' target parsers (targets.hpp): allowOut, denyOut, a rule's
// sni and host, names and CIDRs. Bad input must end as cube::Error (or nullopt), never a crash.
#include "cube-egress-rules/targets.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

template <typename F>
void quietly(F&& f) {
  try {
    f();
  } catch (const cube::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cube::egress;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_cidr(text);
  (void)parse_name_pattern(text);
  (void)host_pattern_text(text);
  quietly([&] { (void)parse_allow_target(text, "allowOut[0]"); });
  quietly([&] { (void)parse_deny_target(text, "denyOut[0]"); });
  quietly([&] { (void)parse_sni_target(text, "rules[0].match.sni"); });
  quietly([&] { (void)parse_host_target(text, "rules[0].match.host"); });
  return 0;
}
