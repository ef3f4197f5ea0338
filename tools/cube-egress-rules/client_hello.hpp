// cube::egress client_hello — the first bytes of a TLS connection, read without consuming them:
// enough of the ClientHello to decide by name before deciding whether to decrypt.
//
// Contract: peek_client_hello() looks at the bytes a client sent so far (the proxy peeks with
// MSG_PEEK, so a relayed connection later forwards them untouched) and says one of:
// - need_more: a well-formed prefix; `need` is the total byte count to peek for next;
// - complete: a whole ClientHello, with its SNI (host_name, lower-cased, without a trailing dot;
//   absent when the client sent none) and ALPN protocols;
// - not_tls: the first record is not a TLS handshake (plain HTTP on the TLS port, garbage);
// - too_large: the ClientHello (its records and headers included) would pass k_max_client_hello;
// - malformed: any length that does not add up, a duplicate extension, an SNI that is not one
//   host_name of 1 to 255 bytes of letters, digits, '-', '_' and '.', an empty ALPN name.
// The handshake message may span several records (post-quantum key shares make large hellos),
// each bounds-checked; every read is checked against the bytes present before it is made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_client_hello = 16 * 1024;

struct ClientHello {
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  uint16_t legacy_version = 0;
};

struct HelloPeek {
  enum class Status { need_more, complete, not_tls, too_large, malformed } status = Status::need_more;
  size_t need = 0;    // need_more: how many bytes in all to peek for (at most k_max_client_hello)
  std::string error;  // malformed, not_tls, too_large: what was wrong, for the security event
  ClientHello hello;  // complete
};

HelloPeek peek_client_hello(std::span<const uint8_t> data);

}  // namespace cube::egress
