#include "settings.hpp"

#include "collect.hpp"
#include "health.hpp"

#include <unistd.h>

namespace cube::versions {

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.base = s.text("base", k_default_base, f.base);
  out.manifest = s.text("manifest", "", f.manifest);
  out.bin_dir = s.text("bin_dir", executable_dir(), f.bin_dir);
  out.node = s.text("node", short_hostname(), f.node);
  out.interval_ms = s.duration_ms("report_interval", "10s", f.interval);
  out.heartbeat_timeout_ms = s.duration_ms("heartbeat_timeout", "40s");
  s.finish();
  return out;
}

std::string short_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string name = buf;
  return name.substr(0, name.find('.'));
}

}  // namespace cube::versions
