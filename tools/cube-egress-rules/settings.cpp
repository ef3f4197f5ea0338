#include "settings.hpp"

namespace cube::egress {

Settings load_settings(config::Settings& s) {
  Settings out;
  out.max_policy_size = s.size("max_policy_size", "16M");
  out.dns_servers = s.list("dns_servers");
  s.finish();
  return out;
}

}  // namespace cube::egress
