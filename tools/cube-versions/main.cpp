// cube-versions: the whole command line. The handlers are in commands.cpp, the work in the modules.
#include "cli.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "stores.hpp"

#include <string>

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

void add_manifest_verb(cli::Tool& tool, cmd::ManifestArgs& a) {
  auto* v = tool.verb("manifest", "Write the release manifest of the cube tools in a directory",
                      [&] { cmd::manifest(tool, a); });
  auto& in = a.inputs;
  v->add_option("--out", a.out, "Where to write it ('-' for stdout)")->type_name("FILE");
  v->add_option("--bin-dir", in.bin_dir, "Directory of the cube tools (default: this tool's own)")->type_name("DIR");
  v->add_option("--release-version", in.release_version, "Release version (default: this build's)");
  v->add_option("--guest-image-version", in.guest_image_version, "Guest image version");
  v->add_option("--guest-image-version-file", in.guest_image_version_file, "File whose first line is it")
      ->type_name("FILE");
  v->add_option("--guest-image", in.guest_image, "Guest image file to digest")->type_name("FILE");
  v->add_option("--base-image", in.base_image, "Base image reference of the guest image");
  v->add_option("--agent-version", in.agent_version, "Guest agent version (default: the release version)");
  v->add_option("--kernel-version", in.kernel_version, "Kernel tag");
  v->add_option("--vmlinux", in.vmlinux, "Kernel image to digest")->type_name("FILE");
  v->add_option("--pvm-version", in.pvm_version, "PVM kernel tag");
  v->add_option("--vmlinux-pvm", in.vmlinux_pvm, "PVM kernel image to digest")->type_name("FILE");
  v->add_flag("--no-kernel", in.no_kernel, "Declare a release without a kernel (else --vmlinux is required)");
}

void add_collect_verb(cli::Tool& tool, cmd::CollectArgs& a) {
  auto* v =
      tool.verb("collect", "List the components this node runs (and --report them)", [&] { cmd::collect(tool, a); });
  auto& sf = a.settings;
  optional_flag(v, "--node", sf.node, "Node ID (default: config, else the short host name)", "ID");
  optional_flag(v, "--base", sf.base, "Install base (default /usr/local/services/cubetoolbox)", "DIR");
  optional_flag(v, "--manifest", sf.manifest, "Release manifest (default <base>/release-manifest.json)", "FILE");
  optional_flag(v, "--bin-dir", sf.bin_dir, "Directory of the cube tools (default: this tool's own)", "DIR");
  v->add_flag("--report", a.report, "Record the result in the state file as this node's report");
  v->add_flag("--jitter", a.jitter, "First wait a random delay in [interval, 1.5 x interval)");
  optional_flag(v, "--interval", sf.interval, "The interval --jitter spreads over (default 10s)", "DURATION");
}

void add_matrix_verb(cli::Tool& tool, cmd::MatrixArgs& a) {
  auto* v = tool.verb("matrix", "Show every component's versions across the nodes", [&] { cmd::matrix(tool, a); });
  v->add_option("--component", a.component, "Only this component")->type_name("NAME");
  v->add_option("--node", a.node, "Only this node in the node view and the check")->type_name("ID");
  v->add_flag("--check", a.check, "Exit 5 when a component is skewed or a version is undeclared");
  optional_flag(v, "--manifest", a.settings.manifest, "Release manifest with the declared versions", "FILE");
  optional_flag(v, "--base", a.settings.base, "Install base holding release-manifest.json", "DIR");
}

struct CompatVerbs {
  cmd::CompatArgs matrix;
  cmd::TemplateArgs show, adopt;
  cmd::PolicyArgs policy;
  cmd::RescanArgs rescan;
};

void add_compat_verbs(cli::Tool& tool, CompatVerbs& a) {
  auto* c = tool.verb("compat", "Template replica compatibility: the matrix, or a sub-verb",
                      [&] { cmd::compat(tool, a.matrix); });
  c->add_option("--template", a.matrix.template_id, "Only this template")->type_name("TEMPLATE");
  c->add_option("--node", a.matrix.node, "Only this node's cells")->type_name("ID");
  c->add_flag("--check", a.matrix.check, "Exit 5 naming every stale replica");
  tool.verb(
          "show", "Per node: bound and current versions, status, and the command that mends it",
          [&] { cmd::compat_show(tool, a.show); }, c)
      ->add_option("TEMPLATE", a.show.template_id, "Template ID")
      ->required()
      ->type_name("TEMPLATE");
  auto* p = tool.verb(
      "policy", "Set a template's policy and re-evaluate its replicas", [&] { cmd::compat_policy(tool, a.policy); }, c);
  p->add_option("TEMPLATE", a.policy.template_id, "Template ID")->required()->type_name("TEMPLATE");
  p->add_option("POLICY", a.policy.policy, "STRICT, GUEST_ONLY or STRICT_KERNEL")->required()->type_name("POLICY");
  auto* r = tool.verb(
      "rescan", "Re-evaluate the READY replicas of nodes against their current versions",
      [&] { cmd::compat_rescan(tool, a.rescan); }, c);
  r->add_option("--node", a.rescan.nodes, "This node (repeatable)")->type_name("ID");
  r->add_flag("--all", a.rescan.all, "Every node that holds a READY replica");
  tool.verb(
          "adopt-baseline", "Bind a template's UNKNOWN replicas to their healthy nodes' current versions",
          [&] { cmd::compat_adopt(tool, a.adopt); }, c)
      ->add_option("TEMPLATE", a.adopt.template_id, "Template ID")
      ->required()
      ->type_name("TEMPLATE");
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool(
      "cube-versions",
      "Component versions of cube nodes: the release manifest, what each node runs, and the cluster matrix.");
  tool.cluster_option();
  cmd::ManifestArgs manifest;
  add_manifest_verb(tool, manifest);
  cmd::CollectArgs collect;
  add_collect_verb(tool, collect);
  cmd::IngestArgs ingest;
  tool.verb("ingest", "Record a node's report read as JSON Lines on stdin", [&] { cmd::ingest(tool, ingest); })
      ->add_option("--node", ingest.node, "The node the report is from")
      ->required()
      ->type_name("ID");
  cmd::MatrixArgs matrix;
  add_matrix_verb(tool, matrix);
  CompatVerbs compat;
  add_compat_verbs(tool, compat);
  cmd::ForgetArgs forget;
  auto* node = tool.verb("node", "Reports of one node: forget");
  tool.verb(
          "forget", "Remove a decommissioned node's version reports", [&] { cmd::node_forget(tool, forget); }, node)
      ->add_option("NODE", forget.node, "Node ID")
      ->required()
      ->type_name("ID");
  tool.verb("config", "Print the effective [versions] settings and where each came from", [&] { cmd::config(tool); });
  tool.migrate_verb(cluster_tables());
  return tool.run(argc, argv);
}
