// cube-versions: the command line. The work lives in manifest, collect, report and matrix.
#include "cli.hpp"
#include "collect.hpp"
#include "commands.hpp"

using namespace cube;
using namespace cube::versions;

namespace {

// A flag that falls back to config: only set when the user gave it.
void optional_flag(CLI::App* app, const std::string& name, std::optional<std::string>& into, const std::string& help,
                   const std::string& type) {
  app->add_option_function<std::string>(
         name, [&into](const std::string& v) { into = v; }, help)
      ->type_name(type);
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool(
      "cube-versions",
      "Component versions of cube nodes: the release manifest, what each node runs, and the cluster matrix.");
  Commands cmd(tool);

  auto* manifest =
      tool.verb("manifest", "Write the release manifest of the cube tools in a directory", [&] { cmd.manifest(); });
  auto& mi = cmd.manifest_inputs;
  manifest->add_option("--out", cmd.out, "Where to write it ('-' for stdout)")->type_name("FILE");
  manifest->add_option("--bin-dir", mi.bin_dir, "Directory of the cube tools (default: this tool's own)")
      ->type_name("DIR");
  manifest->add_option("--release-version", mi.release_version, "Release version (default: this build's)");
  manifest->add_option("--guest-image-version", mi.guest_image_version, "Guest image version");
  manifest->add_option("--guest-image-version-file", mi.guest_image_version_file, "File whose first line is it")
      ->type_name("FILE");
  manifest->add_option("--guest-image", mi.guest_image, "Guest image file to digest")->type_name("FILE");
  manifest->add_option("--base-image", mi.base_image, "Base image reference of the guest image");
  manifest->add_option("--agent-version", mi.agent_version, "Guest agent version (default: the release version)");
  manifest->add_option("--kernel-version", mi.kernel_version, "Kernel tag");
  manifest->add_option("--vmlinux", mi.vmlinux, "Kernel image to digest")->type_name("FILE");
  manifest->add_option("--pvm-version", mi.pvm_version, "PVM kernel tag");
  manifest->add_option("--vmlinux-pvm", mi.vmlinux_pvm, "PVM kernel image to digest")->type_name("FILE");

  auto* collect =
      tool.verb("collect", "List the components this node runs (and --report them)", [&] { cmd.collect(); });
  auto& sf = cmd.flags;
  optional_flag(collect, "--node", sf.node, "Node ID (default: config, else the short host name)", "ID");
  optional_flag(collect, "--base", sf.base, "Install base (default /usr/local/services/cubetoolbox)", "DIR");
  optional_flag(collect, "--manifest", sf.manifest, "Release manifest (default <base>/release-manifest.json)", "FILE");
  optional_flag(collect, "--bin-dir", sf.bin_dir, "Directory of the cube tools (default: this tool's own)", "DIR");
  collect->add_flag("--report", cmd.report, "Record the result in the state file as this node's report");
  collect->add_flag("--jitter", cmd.jitter, "First wait a random delay in [interval, 1.5 x interval)");
  optional_flag(collect, "--interval", sf.interval, "The interval --jitter spreads over (default 10s)", "DURATION");

  auto* ingest = tool.verb("ingest", "Record a node's report read as JSON Lines on stdin", [&] { cmd.ingest(); });
  ingest->add_option("--node", cmd.node, "The node the report is from")->required()->type_name("ID");

  auto* matrix = tool.verb("matrix", "Show every component's versions across the nodes", [&] { cmd.matrix(); });
  matrix->add_option("--component", cmd.component, "Only this component")->type_name("NAME");
  matrix->add_option("--node", cmd.node, "Only this node in the node view and the check")->type_name("ID");
  matrix->add_flag("--check", cmd.check, "Exit 5 when a component is skewed or a version is undeclared");
  optional_flag(matrix, "--manifest", sf.manifest, "Release manifest with the declared versions", "FILE");
  optional_flag(matrix, "--base", sf.base, "Install base holding release-manifest.json", "DIR");

  tool.verb("config", "Print the effective [versions] settings and where each came from", [&] { cmd.config(); });
  return tool.run(argc, argv);
}
