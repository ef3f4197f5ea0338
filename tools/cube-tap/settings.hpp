// cube::tap settings — the [tap] table: flag, then config, then default, every key read here.
#pragma once

#include "config.hpp"
#include "ipv4.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::tap {

inline constexpr const char* k_default_cidr = "192.168.0.0/18";
inline constexpr const char* k_default_socket = "/run/cube/tap.sock";
inline constexpr const char* k_default_bpf_pin_dir = "/sys/fs/bpf/cube";

// Flags that fall back to config; set only when given.
struct SettingFlags {
  std::optional<std::string> uplink, cidr, socket;
  std::optional<int64_t> mtu;
};

// What every guest sees (the same for all sandboxes).
struct Guest {
  ipv4::Prefix address;  // 169.254.68.6/30
  uint32_t gateway = 0;  // 169.254.68.5
  ipv4::Mac mac{};       // 20:90:6f:fc:fc:fc
};

struct Settings {
  std::string uplink;  // "" until given
  std::string cidr;
  int64_t mtu = 1500;
  Guest guest;
  ipv4::Mac gateway_mac{};  // each TAP's own MAC, the one the guest's gateway ARP resolves to
  int64_t pool_max = 0;     // pooled TAPs kept on release; more are destroyed
  std::string socket;
  std::string bpf_pin_dir;  // where the data path's programs and maps are pinned
  std::vector<uint32_t> allowed_uids, allowed_gids;
  int64_t request_timeout_ms = 0;  // serve: a client slower than this is dropped
  int64_t fd_timeout_ms = 0;       // get-fd: how long to wait for the server
  int64_t ensure_wait_ms = 0;      // how long to wait for another process's change to a sandbox
};

Settings load_settings(config::Settings& s, const SettingFlags& flags);

}  // namespace cube::tap
