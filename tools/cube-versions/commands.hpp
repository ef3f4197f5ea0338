// The command layer of cube-versions: one method per verb, holding the parsed flags. It turns
// module results into output; the modules never print.
#pragma once

#include "context.hpp"
#include "manifest.hpp"
#include "settings.hpp"

#include <string>

namespace cube::versions {

class Commands {
 public:
  explicit Commands(cli::Context& tool) : m_tool(tool) {}

  void manifest();
  void collect();
  void ingest();
  void matrix();
  void config();

  // Flags, filled by CLI11.
  ManifestInputs manifest_inputs;
  std::string out = "-";
  SettingFlags flags;
  bool report = false;
  bool jitter = false;
  std::string node;
  std::string component;
  bool check = false;

 private:
  Settings settings();

  cli::Context& m_tool;
};

}  // namespace cube::versions
