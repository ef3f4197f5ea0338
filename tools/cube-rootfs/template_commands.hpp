// cube::rootfs template verbs: build, redo, distribute, list, show, delete, gc, config.
#pragma once

#include "commands.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cube::rootfs {

struct BuildArgs {
  std::string image, store, instance_type = "cubebox", network_type = "tap", writable_layer_size = "1G";
  std::string template_id, registry_auth, cert_dir, via, add_ca, size_flag;
  std::optional<double> safety_margin;
  std::vector<int> ports;
  std::vector<std::string> env, cmd, dns, allow_out, deny_out, node_scope, to;
  bool no_internet = false, pull = false, no_tls_verify = false;
  ImageFlags image_flags;
};
void add_build_verb(cli::Tool& tool, BuildArgs& a);

struct RedoArgs {
  std::string template_id, mode = "failed-only";
  std::vector<std::string> nodes;
};
struct DistributeArgs {
  std::string template_id, via;
  std::vector<std::string> to;
};
struct TemplateRef {
  std::string template_id;
};
struct GcArgs {
  std::string store, grace;
  bool dry_run = false;
};
struct ConfigArgs {
  std::string store;
};
void add_template_verbs(cli::Tool& tool, RedoArgs& redo, DistributeArgs& dist, TemplateRef& show, TemplateRef& del,
                        GcArgs& gc, ConfigArgs& cfg);

}  // namespace cube::rootfs
