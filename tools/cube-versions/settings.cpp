#include "settings.hpp"

#include "collect.hpp"
#include "health.hpp"
#include "ids.hpp"

#include <unistd.h>

namespace cube::versions {

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.base = s.text("base", k_default_base, f.base);
  out.manifest = s.text("manifest", "", f.manifest);
  out.bin_dir = s.text("bin_dir", executable_dir(), f.bin_dir);
  out.node = s.text("node", ids::default_node(), f.node);
  out.interval_ms = s.duration_ms("report_interval", "10s", f.interval);
  out.heartbeat_timeout_ms = s.duration_ms("heartbeat_timeout", "40s");
  s.finish();
  return out;
}

}  // namespace cube::versions
