// cube::rootfs::cmd — the command layer of cube-rootfs: one Args struct and one handler per verb.
// main.cpp declares the command line and fills the Args; a handler turns them into module calls
// and prints the result through common/output. commands.cpp holds the image verbs (convert,
// inspect), commands_template.cpp the template verbs (build, redo, distribute, list, show,
// delete, gc, config).
#pragma once

#include "context.hpp"
#include "settings.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cube::rootfs {
struct BuildOptions;
}

namespace cube::rootfs::cmd {

// Flags every verb that builds an image shares (convert, build).
struct ImageFlags {
  std::string size = "model";
  std::string headroom = "0";
  std::vector<std::string> add_files;
  bool dedup_hardlink = false;
  uint64_t max_entries = 2'000'000;
  std::string work_dir;
  bool no_seccomp = false;
};

// A directory the user named (--out's, --work-dir) must exist: Error(not_found) naming `what`.
void require_dir(const std::string& dir, std::string_view what);

struct ConvertArgs {
  std::string image, out, files;
  bool hash_image = false;
  ImageFlags image_flags;
};

struct InspectArgs {
  std::string file;
  bool content = false;
};

struct BuildArgs {
  std::string image, instance_type = "cubebox", network_type = "tap", writable_layer_size = "1G";
  std::string template_id, registry_auth, cert_dir, via, add_ca;
  std::optional<double> safety_margin;
  std::vector<int> ports;
  std::vector<std::string> env, cmd, dns, allow_out, deny_out, node_scope, to;
  bool no_internet = false, pull = false, no_tls_verify = false;
  SettingFlags settings;
  ImageFlags image_flags;
};

struct RedoArgs {
  std::string template_id, mode = "failed-only";
  std::vector<std::string> nodes;
};

struct DistributeArgs {
  std::string template_id, via;
  std::vector<std::string> to;
};

// show and delete: one template.
struct TemplateRef {
  std::string template_id;
};

struct GcArgs {
  std::string grace;
  bool dry_run = false;
  SettingFlags settings;
};

struct ConfigArgs {
  SettingFlags settings;
};

void convert(cli::Context& ctx, const ConvertArgs& a);
void inspect(cli::Context& ctx, const InspectArgs& a);

void build(cli::Context& ctx, const BuildArgs& a);
void redo(cli::Context& ctx, const RedoArgs& a);
void distribute(cli::Context& ctx, const DistributeArgs& a);
void list(cli::Context& ctx);
void show(cli::Context& ctx, const TemplateRef& a);
void delete_template(cli::Context& ctx, const TemplateRef& a);
void gc(cli::Context& ctx, const GcArgs& a);
void config(cli::Context& ctx, const ConfigArgs& a);

// Shared by the handlers that build: the BuildOptions the image flags ask for (size, headroom,
// extra files, dedup, limits, progress bar), and a one-line progress bar on stderr when it is a
// TTY (empty otherwise).
BuildOptions build_options(const ImageFlags& f);
std::function<void(std::string_view, int)> progress_bar();

}  // namespace cube::rootfs::cmd
