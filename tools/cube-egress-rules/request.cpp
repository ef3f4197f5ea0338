#include "request.hpp"

#include "error.hpp"
#include "targets.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace cube::egress {
namespace {

using json = nlohmann::json;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    char c = static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::optional<std::string> field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Error(Exit::usage, fmt::format("{}: expected a string", key));
  return it->get<std::string>();
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view raw) {
  raw = raw.substr(0, raw.find_first_of("?#"));
  auto decoded = percent_decode(raw);
  if (!decoded || decoded->empty() || decoded->front() != '/') return std::nullopt;
  std::vector<std::string_view> parts;
  std::string_view rest = *decoded;
  bool trailing = rest.size() > 1 && (rest.ends_with("/") || rest.ends_with("/.") || rest.ends_with("/.."));
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(seg);
  }
  std::string out;
  for (auto p : parts) out.append("/").append(p);
  if (out.empty() || trailing) out.push_back('/');
  return out;
}

std::optional<std::string> normalize_host(std::string_view raw) {
  if (raw.empty()) return std::nullopt;
  if (raw.front() != '[') {
    size_t colon = raw.find(':');
    if (colon != std::string_view::npos && raw.find(':', colon + 1) == std::string_view::npos)
      raw = raw.substr(0, colon);
  } else if (size_t close = raw.find(']'); close != std::string_view::npos) {
    raw = raw.substr(0, close + 1);
  }
  std::string h = normalize_name(raw);
  if (h.empty()) return std::nullopt;
  return h;
}

Request parse_request_line(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error& e) {
    throw Error(Exit::usage, "not valid JSON", fmt::format("syntax error at byte {}", e.byte));
  } catch (const json::exception&) {  // 1e999: a number no double holds
    throw Error(Exit::usage, "not valid JSON", "a number out of range");
  }
  if (!j.is_object()) throw Error(Exit::usage, "expected a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "scheme" && k != "sni" && k != "host" && k != "method" && k != "path" && k != "dst")
      throw Error(Exit::usage, fmt::format("unknown key {}", excerpt(k)),
                  "known keys: scheme, sni, host, method, path, dst");
  Request r;
  r.scheme = normalize_name(field(j, "scheme").value_or(""));
  if (auto sni = field(j, "sni"); sni && !sni->empty()) r.sni = normalize_name(*sni);
  if (auto host = field(j, "host")) r.host = normalize_host(*host);
  r.method = field(j, "method").value_or("");
  if (auto path = field(j, "path")) {
    r.path = normalize_path(*path);
    if (!r.path)
      throw Error(Exit::usage, fmt::format("path: cannot be normalised: {}", excerpt(*path)),
                  "it must start with '/', not climb above the root with '..', and decode without %00");
  }
  if (auto dst = field(j, "dst")) {
    r.dst = parse_ipv4(*dst);
    if (!r.dst) throw Error(Exit::usage, fmt::format("dst: not an IPv4 address: {}", excerpt(*dst)));
  }
  return r;
}

}  // namespace cube::egress
