#include "proxy_http_head.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

namespace cube::egress {

namespace http = boost::beast::http;

std::string_view target_path(std::string_view target) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

Request request_of(const http::request_header<>& h, std::string_view scheme, const std::optional<std::string>& sni,
                   uint32_t dst) {
  Request r;
  r.scheme = std::string(scheme);
  r.sni = sni;
  auto host = h.find(http::field::host);
  if (host != h.end()) r.host = normalize_host(std::string_view(host->value().data(), host->value().size()));
  auto method = h.method_string();
  r.method = std::string(method.data(), method.size());
  auto target = h.target();
  r.path = normalize_path(target_path(std::string_view(target.data(), target.size())));
  r.dst = dst;
  return r;
}

HeadParse parse_head(std::string_view bytes, std::string_view scheme) {
  http::request_parser<http::empty_body> p;
  p.header_limit(k_max_request_head);
  p.eager(false);
  boost::system::error_code ec;
  p.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  HeadParse out;
  if (ec == http::error::need_more) return out;
  if (ec == http::error::header_limit) {
    out.status = HeadParse::Status::too_large;
    return out;
  }
  if (ec || !p.is_header_done()) {
    out.status = ec ? HeadParse::Status::bad : HeadParse::Status::need_more;
    return out;
  }
  out.status = HeadParse::Status::complete;
  out.request = request_of(p.get().base(), scheme, std::nullopt, 0);
  return out;
}

}  // namespace cube::egress
