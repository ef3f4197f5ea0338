#include "cluster_ca.hpp"

#include "fs.hpp"

#include <filesystem>

namespace cube::cluster_ca {

Paths paths(const config::Config& cfg) {
  // /dev/null says "no config file", not "keep the CA in /dev": the default directory then.
  std::string_view named = cfg.path() == "/dev/null" ? config::k_default_path : std::string_view(cfg.path());
  std::string file = std::filesystem::absolute(named).lexically_normal().string();
  Paths p;
  p.dir = fs::dirname(file) + "/ca";
  p.cert = p.dir + "/cube-root-ca.crt";
  p.key = p.dir + "/cube-root-ca.key";
  return p;
}

}  // namespace cube::cluster_ca
