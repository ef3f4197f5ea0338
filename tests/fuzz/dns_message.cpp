// libFuzzer target: cube-egress-rules' DNS message parser (tools/cube-egress-rules/dns_message.hpp)
// on any bytes, then the CNAME walk over what it parsed. It must never crash, hang or read out of
// bounds: the relay feeds it whatever a resolver sends.
#include "cube-egress-rules/dns_message.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cube::egress::dns;
  auto m = parse(std::span(data, size));
  if (m && !m->questions.empty()) (void)a_records(*m, m->questions[0].name);
  return 0;
}
