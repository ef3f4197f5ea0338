// cube::versions::cmd — one Args struct and one handler per verb. main.cpp fills the Args from the
// command line (the flags as given, unparsed); a handler checks them, calls the modules and prints
// their results through common/output. The modules never print.
#pragma once

#include "context.hpp"
#include "manifest.hpp"
#include "settings.hpp"

#include <string>
#include <vector>

namespace cube::versions::cmd {

struct ManifestArgs {
  ManifestInputs inputs;  // bin_dir "": this tool's own directory
  std::string out = "-";
};

struct CollectArgs {
  SettingFlags settings;  // --node, --base, --manifest, --bin-dir, --interval
  bool report = false;
  bool jitter = false;
};

struct IngestArgs {
  std::string node;
};

struct MatrixArgs {
  SettingFlags settings;  // --manifest, --base
  std::string component;  // "": every component
  std::string node;       // "": every node
  bool check = false;
};

struct CompatArgs {
  std::string template_id;  // "": every READY template
  std::string node;         // "": every node
  bool check = false;
};

// compat show, compat adopt-baseline: one template.
struct TemplateArgs {
  std::string template_id;
};

struct PolicyArgs {
  std::string template_id, policy;
};

struct RescanArgs {
  std::vector<std::string> nodes;
  bool all = false;
};

struct ForgetArgs {
  std::string node;
};

void manifest(cli::Context& ctx, const ManifestArgs& a);
void collect(cli::Context& ctx, const CollectArgs& a);
void ingest(cli::Context& ctx, const IngestArgs& a);
void matrix(cli::Context& ctx, const MatrixArgs& a);
void compat(cli::Context& ctx, const CompatArgs& a);
void compat_show(cli::Context& ctx, const TemplateArgs& a);
void compat_policy(cli::Context& ctx, const PolicyArgs& a);
void compat_rescan(cli::Context& ctx, const RescanArgs& a);
void compat_adopt(cli::Context& ctx, const TemplateArgs& a);
void node_forget(cli::Context& ctx, const ForgetArgs& a);
void config(cli::Context& ctx);

}  // namespace cube::versions::cmd
