// cube::logs settings — the [logs] table: flag, then config, then built-in default. Every key is
// read here, so that no verb warns about a key another verb uses.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cube::logs {

// The forward flags that fall back to the config; set only when given.
struct SettingFlags {
  std::optional<std::string> max_size;
  std::optional<int64_t> max_files;
  std::optional<std::string> mount_ns;
};

struct Settings {
  std::string root;             // where the per-sandbox log directories are
  std::string template_root;    // where the per-template ones are
  uint64_t max_size = 0;        // rotate before a file passes this; 0: never
  int max_files = 5;            // files kept per stream when rotating, the current one included
  std::string mount_ns;         // the reader's mount namespace as given (mount_ns.hpp); "": stay
  std::string mount_ns_origin;  // "--mount-ns" or "[logs] mount_ns", for errors
};

Settings load_settings(config::Settings& s, const SettingFlags& flags);

}  // namespace cube::logs
