// libFuzzer target: the proxy's HTTP request head parsing (proxy_http_head.hpp: Boost.Beast's
// parser with the 64 KiB head limit, then the Host, path and method the rules see) and the
// header redactor of the audit log (proxy_http_redact.hpp). Any input must end as a status or a
// request, never a crash.
#include "cube-egress-rules/proxy_http_head.hpp"
#include "cube-egress-rules/proxy_http_redact.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cube::egress;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_head(text, "https");
  (void)target_path(text);
  size_t colon = text.find(':');
  if (colon != std::string_view::npos) (void)redact_header(text.substr(0, colon), text.substr(colon + 1));
  (void)redact_body(text, 256);
  return 0;
}
