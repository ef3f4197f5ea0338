#include "ca_bake.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "sha256.hpp"

#include <fmt/format.h>

#include <set>

namespace cube::rootfs {
namespace {

constexpr const char* k_bundles[] = {
    "etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Alpine
    "etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL, CentOS
    "etc/ssl/ca-bundle.pem",                             // openSUSE
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL extracted
    "etc/ssl/cert.pem",                                  // Alpine, macOS-style
};
constexpr const char* k_anchor_dirs[] = {"usr/local/share/ca-certificates", "etc/pki/ca-trust/source/anchors"};
constexpr const char* k_anchor_name = "cube-egress-root.crt";

}  // namespace

CaCert load_ca(const std::string& path) {
  CaCert ca;
  ca.pem = fs::read_file(path, 1 << 20);
  if (ca.pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos ||
      ca.pem.find("-----END CERTIFICATE-----") == std::string::npos)
    throw Error(Exit::usage, fmt::format("CA {}: no PEM CERTIFICATE block", path));
  if (ca.pem.back() != '\n') ca.pem += '\n';
  ca.fingerprint = sha256_hex(ca.pem);
  return ca;
}

int bake_ca(Tree& tree, const CaCert& ca) {
  int written = 0;
  std::set<const Inode*> done;
  for (const char* b : k_bundles) {
    Node* n = tree.lookup(b, Tree::Follow::last);
    if (!n || n->inode->kind != Kind::regular || !done.insert(n->inode.get()).second) continue;
    Inode& i = *n->inode;
    std::string add = (i.size > 0 ? "\n" : "") + ca.pem;
    if (i.src_layer < 0 && !i.has_inline && i.src_path.empty()) {
      i.inline_data = add;  // an empty bundle: nothing to stream, all of it is new
      i.has_inline = true;
    } else {
      i.append += add;
    }
    i.size += add.size();
    ++written;
  }
  for (const char* d : k_anchor_dirs) {
    Node* n = tree.lookup(d, Tree::Follow::last);
    if (!n || n->inode->kind != Kind::directory) continue;
    Inode& i = tree.add_outside_file(std::string(d) + "/" + k_anchor_name, 0644, ca.pem.size(), "");
    i.inline_data = ca.pem;
    i.has_inline = true;
    ++written;
  }
  if (written == 0) {
    Inode& i = tree.add_outside_file(k_bundles[0], 0644, ca.pem.size(), "");
    i.inline_data = ca.pem;
    i.has_inline = true;
    ++written;
  }
  return written;
}

}  // namespace cube::rootfs
