#include "settings.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <charconv>

namespace cube::tap {
namespace {

ipv4::Mac mac(config::Settings& s, const char* key, const char* fallback) {
  std::string text = s.text(key, fallback);
  auto m = ipv4::parse_mac(text);
  if (!m)
    throw Error(Exit::usage, fmt::format("invalid [tap] {} '{}'", key, text.substr(0, 40)),
                "expected aa:bb:cc:dd:ee:ff");
  return *m;
}

uint32_t address(config::Settings& s, const char* key, const char* fallback) {
  std::string text = s.text(key, fallback);
  auto a = ipv4::parse_address(text);
  if (!a)
    throw Error(Exit::usage, fmt::format("invalid [tap] {} '{}'", key, text.substr(0, 40)), "expected an IPv4 address");
  return *a;
}

std::vector<uint32_t> ids(config::Settings& s, const char* key, const std::vector<std::string>& fallback) {
  std::vector<uint32_t> out;
  for (const auto& item : s.list(key, fallback)) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      throw Error(Exit::usage, fmt::format("invalid [tap] {} item '{}'", key, item.substr(0, 40)), "expected a number");
    out.push_back(v);
  }
  return out;
}

}  // namespace

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.uplink = s.text("uplink", "", f.uplink);
  out.cidr = s.text("cidr", k_default_cidr, f.cidr);
  out.mtu = s.integer("mtu", 1500, f.mtu);
  std::string guest = s.text("guest_address", "169.254.68.6/30");
  auto g = ipv4::parse_prefix(guest);
  if (!g || g->length < 1 || g->length > 30)
    throw Error(Exit::usage, fmt::format("invalid [tap] guest_address '{}'", guest.substr(0, 40)),
                "expected a.b.c.d/N");
  out.guest.address = *g;
  out.guest.gateway = address(s, "guest_gateway", "169.254.68.5");
  out.guest.mac = mac(s, "guest_mac", "20:90:6f:fc:fc:fc");
  out.gateway_mac = mac(s, "gateway_mac", "20:90:6f:cf:cf:cf");
  out.pool_max = s.integer("pool_max", 256);
  out.socket = s.text("socket", k_default_socket, f.socket);
  out.bpf_pin_dir = s.text("bpf_pin_dir", k_default_bpf_pin_dir);
  if (out.bpf_pin_dir.empty() || out.bpf_pin_dir[0] != '/')
    throw Error(Exit::usage, "invalid [tap] bpf_pin_dir", "expected an absolute path");
  out.allowed_uids = ids(s, "allowed_uids", {"0"});
  out.allowed_gids = ids(s, "allowed_gids", {});
  out.request_timeout_ms = s.duration_ms("request_timeout", "1s");
  out.fd_timeout_ms = s.duration_ms("fd_timeout", "2s");
  out.ensure_wait_ms = s.duration_ms("ensure_wait", "10s");
  s.finish();
  if (out.mtu < 68 || out.mtu > 65521)
    throw Error(Exit::usage, fmt::format("invalid mtu {}", out.mtu), "expected 68 to 65521");
  if (out.pool_max < 0) throw Error(Exit::usage, "invalid [tap] pool_max", "expected 0 or more");
  return out;
}

}  // namespace cube::tap
