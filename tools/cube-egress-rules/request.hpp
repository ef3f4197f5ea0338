// cube::egress request — one HTTP(S) request as the rules see it, normalised the one way that
// `check` and the proxy share.
//
// Contract: names lower-cased without a trailing dot, Host without its ":port" (a bracketed IPv6
// address kept whole); an empty SNI or Host is absent. The scheme is lower-cased. The method is
// kept as sent (HTTP methods are case-sensitive). The path loses its query and fragment, is
// percent-decoded, and has "//", "." and ".." resolved, so "/public/../admin" is "/admin" to a
// prefix rule; a path that climbs above the root or decodes to NUL is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::egress {

struct Request {
  std::string scheme;
  std::optional<std::string> sni, host;
  std::string method;
  std::optional<std::string> path;
  std::optional<uint32_t> dst;  // the original destination address
};

// The normalised path, or nullopt when it cannot be normalised.
std::optional<std::string> normalize_path(std::string_view raw);
// "Host: api.example.com:8443" → "api.example.com"; "" → nullopt.
std::optional<std::string> normalize_host(std::string_view raw);

// One line of `check` input: {"scheme", "sni", "host", "method", "path", "dst"}, each optional.
// Throws Error(usage) naming the field on bad input.
Request parse_request_line(std::string_view line);

}  // namespace cube::egress
