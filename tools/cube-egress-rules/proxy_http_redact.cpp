#include "proxy_http_redact.hpp"

#include "json_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace cube::egress {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string auth_marker(std::string_view value) {
  value = trim(value);
  if (value.empty()) return "<redacted:unknown>";
  size_t sp = value.find_first_of(" \t");
  if (sp == std::string_view::npos) return "<redacted:raw>";
  std::string scheme = lower(value.substr(0, sp));
  scheme[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(scheme[0])));
  return "<redacted:" + scheme + ">";
}

// "a=1; b=2" (cookie) or "a=1; Path=/" (set-cookie: only the first pair names a cookie).
std::string cookie_marker(std::string_view name, std::string_view value) {
  bool set = name == "set-cookie";
  std::string names;
  for (size_t at = 0; at <= value.size();) {
    size_t end = value.find(';', at);
    if (end == std::string_view::npos) end = value.size();
    std::string_view pair = trim(value.substr(at, end - at));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && eq > 0)
      names += (names.empty() ? "" : ",") + std::string(trim(pair.substr(0, eq)));
    if (set) break;
    at = end + 1;
  }
  return names.empty() ? "<redacted>" : "<redacted; names=" + names + ">";
}

void redact_json(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if (sensitive_name(k))
        v = "<redacted>";
      else
        redact_json(v);
    }
  } else if (j.is_array()) {
    for (auto& v : j) redact_json(v);
  }
}

}  // namespace

bool sensitive_name(std::string_view name) {
  std::string n = lower(name);
  static constexpr std::array<std::string_view, 6> k_parts = {"token",    "secret",     "key",
                                                              "password", "credential", "auth"};
  return std::any_of(k_parts.begin(), k_parts.end(),
                     [&](std::string_view p) { return n.find(p) != std::string::npos; });
}

std::string redact_header(std::string_view name, std::string_view value) {
  std::string n = lower(name);
  if (n == "authorization" || n == "proxy-authorization") return auth_marker(value);
  if (n == "cookie" || n == "set-cookie") return cookie_marker(n, value);
  if (sensitive_name(n)) return "<redacted>";
  return std::string(value);
}

std::string redact_body(std::string_view body, size_t max) {
  std::string_view cut = body.substr(0, std::min(body.size(), max));
  std::string_view start = trim(cut);
  json::Writer w;
  if (!start.empty() && (start.front() == '{' || start.front() == '[')) {
    auto j = nlohmann::json::parse(cut, nullptr, false);
    if (j.is_discarded()) {
      w.value("<unparsed json: " + std::to_string(cut.size()) + " bytes>");
      return w.take();
    }
    redact_json(j);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  w.value(cut);
  return w.take();
}

}  // namespace cube::egress
