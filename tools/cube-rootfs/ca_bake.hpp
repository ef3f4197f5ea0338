// cube::rootfs CA bake (doc/cube-rootfs.md, "CA bake"): makes a template trust the egress
// proxy's CA.
//
// Contract: load_ca reads a PEM file (at most 1 MiB, at least one CERTIFICATE block) and gives its
// SHA-256, which joins the spec fingerprint. bake_ca edits the metadata tree before sizing: each
// existing trust bundle (regular file, or a symlink to one inside the image) gets the PEM appended
// once per inode, each existing anchor directory gets cube-egress-root.crt, and an image with
// neither gets etc/ssl/certs/ca-certificates.crt seeded with the PEM. Returns how many files it
// wrote (cube_egress_ca_targets_written).
#pragma once

#include "layer_tree.hpp"

#include <string>

namespace cube::rootfs {

struct CaCert {
  std::string pem, fingerprint;
};
CaCert load_ca(const std::string& path);
int bake_ca(Tree& tree, const CaCert& ca);

}  // namespace cube::rootfs
