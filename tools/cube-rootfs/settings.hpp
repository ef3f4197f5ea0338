// cube::rootfs settings — the [rootfs] table (`store`, `cluster_ca`, and for targets taken from
// the cluster `node`, `node_store`, `heartbeat_timeout`), flag, then config, then built-in default;
// and the disk pre-check margin, which comes from a flag or the environment.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cube::rootfs {

inline constexpr std::string_view k_default_store = "/var/lib/cube/rootfs";

// The flags that fall back to the config; set only when given (an empty --store counts as not).
struct SettingFlags {
  std::optional<std::string> store;
  std::optional<std::string> cluster_ca;  // "required" for --with-ca, "none" for --no-ca
};

// Whether build bakes the node's cluster CA (common/cluster_ca.hpp) into the image: `auto` when
// the node has one (a warning when not), `required` (a missing CA is an error), `none`.
enum class ClusterCa { auto_, required, none };

// Where distribute and redo copy when no --to names the nodes (doc/cube-rootfs.md, "Targets from
// the cluster").
struct ClusterSettings {
  std::string node;        // this node's ID in cube-sched's registry: it uses the local store
  std::string node_store;  // a node's store directory, "{node}" standing for its ID; "" when unset
  int64_t heartbeat_timeout_ms = 40'000;
  std::string url;  // the cluster store (cluster_reader.hpp); "" for the state file
};

struct Settings {
  std::string store;  // made absolute: a redo may run from another directory
  ClusterCa cluster_ca = ClusterCa::auto_;
  ClusterSettings cluster;
};

Settings load_settings(config::Settings& s, const SettingFlags& flags);

// --safety-margin, else $CUBE_DISK_SPACE_SAFETY_MARGIN, else 1.5. A value below 1 (or not a
// number) is ignored with a warning, as upstream ignores it.
double safety_margin(std::optional<double> flag);

}  // namespace cube::rootfs
