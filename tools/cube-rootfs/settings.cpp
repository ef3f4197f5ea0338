#include "settings.hpp"

#include "error.hpp"
#include "fs.hpp"

#include "log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace cube::rootfs {

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.store = s.text("store", k_default_store, f.store && !f.store->empty() ? f.store : std::nullopt);
  std::string ca = s.text("cluster_ca", "auto", f.cluster_ca);
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
