#include "ports.hpp"

#include "error.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace cube::tap {
namespace {

std::optional<uint32_t> port_number(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s.size() > 5 || s[0] == '0' || ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 65535)
    return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<PortRequest> parse_port_requests(const std::vector<std::string>& values) {
  if (values.size() > k_max_ports)
    throw Error(Exit::usage, fmt::format("{} --port values given", values.size()),
                fmt::format("the limit is {}", k_max_ports));
  std::map<uint32_t, uint32_t> by_container;
  for (const auto& v : values) {
    std::string_view text = v;
    size_t colon = text.find(':');
    auto container = port_number(text.substr(0, colon));
    std::optional<uint32_t> host =
        colon == std::string_view::npos ? std::optional<uint32_t>(0) : port_number(text.substr(colon + 1));
    if (!container || !host)
      throw Error(Exit::usage, fmt::format("invalid --port '{}'", v.substr(0, 40)),
                  "expected CONTAINER or CONTAINER:HOST, ports 1 to 65535");
    by_container[*container] = *host;
  }
  std::vector<PortRequest> out;
  for (auto [c, h] : by_container) out.push_back({c, h});
  return out;
}

std::set<uint32_t> parse_reserved_ports(std::string_view text) {
  std::set<uint32_t> out;
  text = trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    size_t dash = item.find('-');
    auto lo = port_number(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : port_number(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo)
      throw Error(Exit::failed,
                  fmt::format("ip_local_reserved_ports: cannot read '{}'", std::string(item.substr(0, 40))),
                  "expected a comma list of ports and a-b ranges");
    for (uint32_t p = std::max(*lo, k_port_min); p <= std::min(*hi, k_port_max); ++p) out.insert(p);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

std::set<uint32_t> reserved_ports() {
  const std::string path = "/proc/sys/net/ipv4/ip_local_reserved_ports";
  if (!fs::exists(path)) return {};
  return parse_reserved_ports(fs::read_file(path, 1 << 20));
}

std::optional<uint32_t> next_port(uint32_t cursor, const OpenScan& used, const std::set<uint32_t>& reserved) {
  return next_fit(k_port_min, k_port_max, cursor, used, [&](uint32_t p) { return reserved.count(p) != 0; });
}

}  // namespace cube::tap
