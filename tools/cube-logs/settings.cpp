#include "settings.hpp"

#include "reader.hpp"

namespace cube::logs {

Settings load_settings(config::Settings& s, const SettingFlags& f) {
  Settings out;
  out.root = s.text("root", k_sandbox_root);
  out.template_root = s.text("template_root", k_template_root);
  out.max_size = s.size("max_size", "0", f.max_size);
  out.max_files = static_cast<int>(s.integer("max_files", 5, f.max_files));
  out.mount_ns = s.text("mount_ns", "", f.mount_ns);
  out.mount_ns_origin = f.mount_ns ? "--mount-ns" : "[logs] mount_ns";
  s.finish();
  return out;
}

}  // namespace cube::logs
