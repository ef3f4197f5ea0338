// cube::versions::cmd — one Args struct and one handler per verb. main.cpp fills the Args from the
// command line (the flags as given, unparsed); a handler checks them, calls the modules and prints
// their results through common/output. The modules never print.
#pragma once

#include "context.hpp"
#include "manifest.hpp"
#include "settings.hpp"

#include <string>

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

void manifest(cli::Context& ctx, const ManifestArgs& a);
void collect(cli::Context& ctx, const CollectArgs& a);
void ingest(cli::Context& ctx, const IngestArgs& a);
void matrix(cli::Context& ctx, const MatrixArgs& a);
void config(cli::Context& ctx);

}  // namespace cube::versions::cmd
