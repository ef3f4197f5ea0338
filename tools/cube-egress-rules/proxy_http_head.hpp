// cube::egress proxy_http_head — an HTTP/1.1 request head as the proxy reads it (Boost.Beast's
// parser) and as the rules see it.
//
// Contract:
// - A head is at most k_max_request_head bytes (64 KiB): past that the parser stops with
//   http::error::header_limit and the proxy answers 431 and closes, with a security event.
// - request_of() makes the Request the matcher decides (request.hpp normalises): Host without its
//   port, the path without its query (an absolute-form target "http://h/p" gives its path),
//   the method as sent, the scheme and SNI of the connection, the original destination.
//   `path` is nullopt when the target cannot be normalised (the proxy answers 400).
// - parse_head() runs the same parser over bytes in memory (the fuzz target's entry).
#pragma once

#include "request.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::egress {

inline constexpr size_t k_max_request_head = 64 * 1024;

Request request_of(const boost::beast::http::request_header<>& h, std::string_view scheme,
                   const std::optional<std::string>& sni, uint32_t dst);

// The target's path: "/a?b" → "/a", "http://h:80/a?b" → "/a", "*" → "*".
std::string_view target_path(std::string_view target);

struct HeadParse {
  enum class Status { complete, need_more, too_large, bad } status = Status::need_more;
  std::optional<Request> request;  // when complete
};
HeadParse parse_head(std::string_view bytes, std::string_view scheme);

}  // namespace cube::egress
