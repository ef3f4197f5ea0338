// cube::cluster_ca — where a node keeps the cluster's CA (the egress proxy's signing CA, which
// templates trust): beside the config file, as upstream keeps /etc/cube/ca/cube-root-ca.{crt,key}.
//
// Contract: the directory is `ca/` in the directory of the config file in use (--config, else
// $CUBE_CONFIG, else /etc/cube/cube.toml; /etc/cube for /dev/null), so one --config moves the
// config and the CA together.
// cube-egress-rules writes these files (`ca init`, `ca import`); cube-rootfs reads the cert.
#pragma once

#include "config.hpp"

#include <string>

namespace cube::cluster_ca {

struct Paths {
  std::string dir;   // <config dir>/ca, 0755
  std::string cert;  // <dir>/cube-root-ca.crt, 0644
  std::string key;   // <dir>/cube-root-ca.key, 0600, owned by the user that runs the proxy (root)
};

Paths paths(const config::Config& cfg);

}  // namespace cube::cluster_ca
