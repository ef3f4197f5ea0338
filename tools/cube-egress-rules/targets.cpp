#include "targets.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cube::egress {
namespace {

constexpr size_t k_max_name = 254;  // "total < 255"
constexpr size_t k_max_label = 63;

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool digits_and_dots(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool label_ok(std::string_view l) {
  if (l.empty() || l.size() > k_max_label || l.front() == '-' || l.back() == '-') return false;
  return std::all_of(l.begin(), l.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// "host:443" → "host"; a bracketed or bare IPv6 address is left whole.
std::string_view strip_port(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || s.find(':') != colon || s.front() == '[') return s;
  std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !digits_and_dots(port) || port.find('.') != std::string_view::npos) return s;
  return s.substr(0, colon);
}

[[noreturn]] void bad(std::string_view field, std::string_view what, std::string_view text, std::string why = {}) {
  throw Error(Exit::usage, fmt::format("{}: {} {}", field, what, excerpt(text)), std::move(why));
}

std::string_view non_empty(std::string_view text, std::string_view field) {
  std::string_view t = trim(text);
  if (t.empty()) throw Error(Exit::usage, fmt::format("{}: empty target", field));
  return t;
}

}  // namespace

std::string excerpt(std::string_view text) {
  if (text.size() <= 80) return fmt::format("'{}'", text);
  return fmt::format("'{}…'", text.substr(0, 80));
}

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t addr = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
    size_t n = 0;
    unsigned v = 0;
    while (n < text.size() && n < 4 && text[n] >= '0' && text[n] <= '9') v = v * 10 + (text[n++] - '0');
    if (n == 0 || n > 3 || v > 255 || (n > 1 && text[0] == '0')) return std::nullopt;
    addr = addr << 8 | v;
    text.remove_prefix(n);
  }
  if (!text.empty()) return std::nullopt;
  return addr;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = parse_ipv4(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Cidr{*addr, 32};
  std::string_view p = text.substr(slash + 1);
  if (p.empty() || p.size() > 2 || !digits_and_dots(p) || p.find('.') != std::string_view::npos ||
      (p.size() > 1 && p[0] == '0'))
    return std::nullopt;
  int prefix = std::stoi(std::string(p));
  if (prefix > 32) return std::nullopt;
  auto pre = static_cast<uint8_t>(prefix);
  return Cidr{*addr & Cidr::mask(pre), pre};
}

std::string ipv4_text(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

std::string Cidr::text() const {
  return prefix == 32 ? ipv4_text(network) : fmt::format("{}/{}", ipv4_text(network), prefix);
}

bool NamePattern::matches(std::string_view host) const {
  if (!wildcard) return host == name;
  return host.size() > name.size() + 1 && host.ends_with(name) && host[host.size() - name.size() - 1] == '.';
}

std::string normalize_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::optional<NamePattern> parse_name_pattern(std::string_view text) {
  std::string n = normalize_name(text);
  if (n.empty() || n.size() > k_max_name) return std::nullopt;
  NamePattern p;
  if (n.starts_with("*.")) {
    p.wildcard = true;
    n.erase(0, 2);
  }
  std::string_view rest = n;
  for (size_t dot; !rest.empty(); rest.remove_prefix(dot == std::string_view::npos ? rest.size() : dot + 1)) {
    dot = rest.find('.');
    if (!label_ok(rest.substr(0, dot)) || (dot != std::string_view::npos && dot + 1 == rest.size()))
      return std::nullopt;
  }
  if (n.empty()) return std::nullopt;
  p.name = std::move(n);
  return p;
}

Target parse_allow_target(std::string_view text, std::string_view field) {
  std::string_view t = non_empty(text, field);
  if (auto c = parse_cidr(t)) return {Target::Kind::address, *c, {}};
  if (t.find('/') != std::string_view::npos) bad(field, "invalid allow_out CIDR target", t);
  if (t.find(':') != std::string_view::npos || digits_and_dots(t))
    bad(field, "unsupported allow_out IP target", t, "only IPv4 addresses and CIDRs");
  auto name = parse_name_pattern(t);
  if (!name)
    bad(field, "invalid allow_out domain target", t,
        "labels of 1-63 letters, digits and '-', an optional leading '*.', under 255 bytes");
  return {Target::Kind::name, {}, std::move(*name)};
}

Cidr parse_deny_target(std::string_view text, std::string_view field) {
  std::string_view t = non_empty(text, field);
  auto c = parse_cidr(t);
  if (!c) bad(field, "invalid deny_out target", t, "expected an IPv4 address or CIDR");
  return *c;
}

NamePattern parse_sni_target(std::string_view text, std::string_view field) {
  std::string_view t = non_empty(text, field);
  if (t.find(':') != std::string_view::npos || digits_and_dots(t))
    bad(field, "invalid sni target", t, "a server name is a DNS name, never an address");
  auto name = parse_name_pattern(t);
  if (!name) bad(field, "invalid sni target", t, "labels of 1-63 letters, digits and '-', an optional leading '*.'");
  return std::move(*name);
}

std::optional<Target> parse_host_target(std::string_view text, std::string_view field) {
  std::string_view t = strip_port(non_empty(text, field));
  if (t.front() == '[' || t.find(':') != std::string_view::npos) return std::nullopt;
  if (auto c = parse_cidr(t)) return Target{Target::Kind::address, *c, {}};
  if (digits_and_dots(t)) return std::nullopt;
  auto name = parse_name_pattern(t);
  if (!name) bad(field, "invalid host target", t, "a DNS name (optional leading '*.'), an IPv4 address or CIDR");
  return Target{Target::Kind::name, {}, std::move(*name)};
}

std::string host_pattern_text(std::string_view text) { return normalize_name(strip_port(trim(text))); }

}  // namespace cube::egress
