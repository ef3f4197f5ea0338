#include "settings.hpp"

#include "cluster_targets.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace cube::rootfs {
namespace {

ClusterSettings load_cluster(config::Settings& s) {
  ClusterSettings c;
  c.node = s.text("node", ids::default_node());
  c.node_store = s.text("node_store", "");
  c.heartbeat_timeout_ms = s.duration_ms("heartbeat_timeout", "40s");
  if (!ids::is_path_safe(c.node))
    throw Error(Exit::usage, fmt::format("[rootfs] node = {:?}: not a node ID", c.node),
                "1 to 128 bytes of letters, digits, _ and -", "set it to this node's ID in cube-sched's registry");
  if (c.heartbeat_timeout_ms <= 0) throw Error(Exit::usage, "[rootfs] heartbeat_timeout: expected a positive duration");
  check_node_store(c.node_store);
  return c;
}

}  // namespace

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.store = s.text("store", k_default_store, f.store && !f.store->empty() ? f.store : std::nullopt);
  std::string ca = s.text("cluster_ca", "auto", f.cluster_ca);
  out.cluster = load_cluster(s);
  s.finish();
  if (ca == "required")
    out.cluster_ca = ClusterCa::required;
  else if (ca == "none")
    out.cluster_ca = ClusterCa::none;
  else if (ca != "auto")
    throw Error(Exit::usage, fmt::format("[rootfs] cluster_ca = {:?}: expected auto, required or none", ca));
  if (out.store.empty() || out.store[0] != '/') {
    if (std::string cwd = fs::current_dir(); !cwd.empty()) out.store = cwd + "/" + out.store;
  }
  return out;
}

double safety_margin(std::optional<double> flag) {
  if (flag) {
    if (*flag >= 1.0) return *flag;
    log::warn("ignoring --safety-margin {}: values below 1 are ignored", *flag);
  }
  if (const char* env = std::getenv("CUBE_DISK_SPACE_SAFETY_MARGIN"); env && *env) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (*end == '\0' && v >= 1.0) return v;
    log::warn("ignoring CUBE_DISK_SPACE_SAFETY_MARGIN={:?}: a number of at least 1 is expected", env);
  }
  return 1.5;
}

}  // namespace cube::rootfs
