// cube::egress secrets — the credentials rules inject, and the only forms in which they leave.
//
// Contract: a secret is 1 to 65536 bytes with no NUL, CR or LF (it becomes a header value). Its
// public name is its secret_ref, "fp-" + the first 8 hex digits of its SHA-256 (upstream's
// secret_ref_synthetic), which audit lines and `check` print. Everywhere else it prints as
// ***REDACTED***. Errors about a secret never quote it.
#pragma once

#include <string>
#include <string_view>

namespace cube::egress {

inline constexpr size_t k_max_secret = 65536;

std::string secret_ref(std::string_view secret);
// The stand-in for a secret in any output that is not an explicit export of secrets.
std::string_view redacted();
// Throws Error(usage) naming `field` (never the value) when `secret` is empty, too long, contains
// NUL, CR or LF, or is the redaction marker itself (a redacted export fed back in).
void check_secret(std::string_view secret, std::string_view field);

}  // namespace cube::egress
