// cube::rootfs::TemplateRequest — what `cube-rootfs build` was asked, validated
// (doc/cube-rootfs.md, "Requests"), stored in full (registry password never) and hashed into the
// spec fingerprint (doc/cube-rootfs.md, "Fingerprints and dedup").
#pragma once

#include "image_builder.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::rootfs {

inline constexpr int k_builtin_port = 49983;  // always exposed, does not count toward the limit
inline constexpr size_t k_max_custom_ports = 3;

struct Target {
  std::string node, dir;  // dir: the node's store directory, or the --via destination
  std::string address;    // the node's registered address (targets from the cluster), for --via
  bool local = false;     // this node, whose store is `dir` and already holds the artifact
};

struct TemplateRequest {
  std::string template_id;  // always generated; a redo checks it against the template's own
  std::string image;        // IMAGE as given, or the registry reference with --pull
  bool pull = false;
  std::string registry_user;  // from --registry-auth; the password is never stored
  std::string registry_auth;  // the USER:PASSWORD file's path, read again at each pull
  bool tls_verify = true;     // --no-tls-verify: plain HTTP or an unverified certificate allowed
  std::string cert_dir;       // --cert-dir: the registry's CA certificates (absolute), or empty
  std::string store;
  std::string work_dir;
  std::string instance_type = "cubebox";
  std::string network_type = "tap";
  uint64_t writable_layer_size = 0;
  std::vector<int> ports;
  std::vector<std::string> env, cmd, dns, allow_out, deny_out, node_scope;
  bool no_internet = false;
  std::vector<AddFile> add_files;
  std::string ca_path, ca_fingerprint;
  bool dedup_hardlink = false;
  std::string size = "model";
  uint64_t headroom = 0;
  uint64_t max_entries = 2'000'000;
  double safety_margin = 1.5;
  bool seccomp = true;
  std::vector<Target> targets;
  std::string via;
};

// Normalises (ports sorted and de-duplicated, docker:// stripped) and validates; throws
// Error(usage) naming the field and the rule.
void normalise(TemplateRequest& r);

std::string to_json(const TemplateRequest& r);
TemplateRequest request_from_json(std::string_view json);

// Hex SHA-256 of {source_image_digest, writable_layer_size, exposed_ports?, instance_type,
// network_type, container_overrides?, cube_egress_ca_fingerprint?} in that order
// (doc/cube-rootfs.md, "Fingerprints and dedup").
std::string spec_fingerprint(const TemplateRequest& r, std::string_view source_digest);
inline std::string artifact_id_of(std::string_view fingerprint) {
  return "rfs-" + std::string(fingerprint.substr(0, 24));
}

// A new template ID, `tpl-` + 24 random lowercase hex digits: IDs are always generated, never taken
// from the user.
std::string new_template_id();

// Parses NODE=DIR.
Target parse_target(const std::string& spec);

}  // namespace cube::rootfs
