// [versions] settings: flag, then config, then default.
#pragma once

#include "config.hpp"

#include <optional>
#include <string>

namespace cube::versions {

inline constexpr const char* k_default_base = "/usr/local/services/cubetoolbox";

struct SettingFlags {
  std::optional<std::string> base, manifest, bin_dir, node, interval;
};

struct Settings {
  std::string base;
  std::string manifest;  // "" = $CUBE_RELEASE_MANIFEST or <base>/release-manifest.json
  std::string bin_dir;
  std::string node;
  int64_t interval_ms = 0;
  int64_t heartbeat_timeout_ms = 0;
};

Settings load_settings(config::Settings& s, const SettingFlags& flags);

}  // namespace cube::versions
