// cube-rootfs: the command line. The handlers are in commands.cpp (convert, inspect) and
// commands_template.cpp (the template verbs); the work in the modules beside them.
#include "cli.hpp"
#include "commands.hpp"

#include <climits>
#include <cstdint>

using namespace cube;
using namespace cube::rootfs;

namespace {

// The flags of every verb that builds an image (convert, build).
void add_image_flags(CLI::App* v, cmd::ImageFlags& f) {
  v->add_option("--size", f.size, "model (upstream's rule), exact (smallest that fits), or a size such as 2G")
      ->type_name("MODE|SIZE");
  v->add_option("--headroom", f.headroom, "Free space to leave with --size exact, e.g. 64M")->type_name("SIZE");
  v->add_option("--add-file", f.add_files, "Put a host file into the image: SRC:DEST[:MODE] (repeatable)")
      ->type_name("SPEC");
  v->add_flag("--dedup-hardlink", f.dedup_hardlink, "Store identical files (bytes and metadata) once, hardlinked");
  v->add_option("--max-entries", f.max_entries, "Refuse images with more archive entries than this")
      ->type_name("N")
      ->check(cli::integer(1, INT64_MAX));
  v->add_option("--work-dir", f.work_dir,
                "convert: where stdin is spooled (default: next to the output); build: where the image is "
                "written first when the store is on NFS/CIFS/FUSE (default /var/tmp/cube-rootfs-work)")
      ->type_name("DIR");
  v->add_flag("--no-seccomp", f.no_seccomp, "Do not lock the process down while parsing (debugging)");
}

void add_convert_verb(cli::Tool& tool, cmd::ConvertArgs& a) {
  auto* v = tool.verb("convert", "Write the ext4 rootfs of an image to a file (no template, no state)",
                      [&] { cmd::convert(tool, a); });
  v->add_option("IMAGE", a.image, "oci:DIR[:TAG], a docker-archive or rootfs tar file, or - (stdin)")
      ->required()
      ->type_name("IMAGE");
  v->add_option("--out", a.out, "The .ext4 file to create")->required()->type_name("FILE");
  v->add_option("--files", a.files, "Write per-file fingerprints (JSON Lines) here")->type_name("FILE");
  v->add_flag("--hash-image", a.hash_image, "Also compute the image file's SHA-256");
  add_image_flags(v, a.image_flags);
}

void add_inspect_verb(cli::Tool& tool, cmd::InspectArgs& a) {
  auto* v = tool.verb("inspect", "List every entry of an ext4 image, read without mounting it",
                      [&] { cmd::inspect(tool, a); });
  v->add_option("FILE", a.file, "The ext4 image")->required()->type_name("FILE");
  v->add_flag("--content", a.content, "Hash each regular file's content (SHA-256)");
}

void add_build_verb(cli::Tool& tool, cmd::BuildArgs& a) {
  auto* v = tool.verb("build", "Create a template from an image: build (or reuse) its rootfs artifact, distribute it",
                      [&] { cmd::build(tool, a); });
  v->add_option("IMAGE", a.image,
                "oci:DIR[:TAG], a docker-archive or rootfs tar, - (stdin), or with --pull a reference")
      ->required()
      ->type_name("IMAGE");
  v->add_option("--store", a.settings.store, "Artifact store (config [rootfs] store; default /var/lib/cube/rootfs)")
      ->type_name("DIR");
  v->add_option("--instance-type", a.instance_type, "Instance type")->type_name("TYPE");
  v->add_option("--network-type", a.network_type, "Network type")
      ->check(CLI::IsMember({"tap", "none"}))
      ->type_name("TYPE");
  v->add_option("--writable-layer-size", a.writable_layer_size, "Size of the sandbox's writable layer")
      ->type_name("SIZE");
  v->add_option("--expose", a.ports, "Expose a guest port (repeatable; at most 3 besides 49983)")->type_name("PORT");
  v->add_option("--env", a.env, "Environment variable KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  v->add_option("--cmd", a.cmd, "Command word (repeatable, in order)")->type_name("ARG");
  v->add_option("--dns", a.dns, "DNS server (repeatable)")->type_name("IP");
  v->add_option("--allow-out", a.allow_out, "Allowed egress CIDR or domain (repeatable)")->type_name("CIDR|DOMAIN");
  v->add_option("--deny-out", a.deny_out, "Denied egress CIDR (repeatable)")->type_name("CIDR");
  v->add_flag("--no-internet", a.no_internet, "No public internet access");
  v->add_option("--node-scope", a.node_scope, "Restrict the template to a node (repeatable)")->type_name("NODE");
  v->add_option("--template-id", a.template_id, "Ignored with a warning: IDs are always generated")->type_name("ID");
  v->add_flag("--pull", a.pull, "IMAGE is a registry reference pulled with skopeo");
  v->add_option("--registry-auth", a.registry_auth, "File holding USER:PASSWORD for --pull")->type_name("FILE");
  v->add_flag("--no-tls-verify", a.no_tls_verify,
              "With --pull: allow plain HTTP and an unverified certificate (an internal registry)");
  v->add_option("--cert-dir", a.cert_dir, "With --pull: the registry's CA certificates (*.crt) and client keys")
      ->type_name("DIR");
  v->add_option("--to", a.to, "Distribute to a node store, NODE=DIR (repeatable)")->type_name("NODE=DIR");
  v->add_option("--via", a.via, "Transfer command run as sh -c CMD _ SRC_DIR NODE DEST ADDRESS")->type_name("CMD");
  v->add_option("--safety-margin", a.safety_margin, "Disk pre-check margin over the image size (default 1.5)")
      ->type_name("X")
      ->check(cli::real(0, 1000));
  auto* add_ca =
      v->add_option("--add-ca", a.add_ca, "Add this CA (PEM) to the image's trust bundles, not the cluster CA")
          ->type_name("FILE");
  auto* no_ca = v->add_flag_callback(
      "--no-ca", [&a] { a.settings.cluster_ca = "none"; }, "Do not bake the cluster CA into the image");
  v->add_flag_callback(
       "--with-ca", [&a] { a.settings.cluster_ca = "required"; },
       "Bake the cluster CA; its absence is an error (default: when the node has it)")
      ->excludes(no_ca)
      ->excludes(add_ca);
  no_ca->excludes(add_ca);
  add_image_flags(v, a.image_flags);
}

void add_redo_verb(cli::Tool& tool, cmd::RedoArgs& a) {
  auto* v = tool.verb("redo", "Resume a template's failed or killed job from its last completed phase",
                      [&] { cmd::redo(tool, a); });
  v->add_option("TEMPLATE", a.template_id, "Template ID")->required()->type_name("TEMPLATE");
  v->add_option("--mode", a.mode, "failed-only (default) or all")
      ->check(CLI::IsMember({"failed-only", "all"}))
      ->type_name("MODE");
  v->add_option("--nodes", a.nodes, "Only these nodes (comma-separated)")->delimiter(',')->type_name("NODE,...");
}

void add_distribute_verb(cli::Tool& tool, cmd::DistributeArgs& a) {
  auto* v = tool.verb("distribute", "Copy a template's artifact to node stores (4 workers)",
                      [&] { cmd::distribute(tool, a); });
  v->add_option("TEMPLATE", a.template_id, "Template ID")->required()->type_name("TEMPLATE");
  v->add_option("--to", a.to, "Node store, NODE=DIR (repeatable; default: cube-sched's healthy nodes of the type)")
      ->type_name("NODE=DIR");
  v->add_option("--via", a.via, "Transfer command run as sh -c CMD _ SRC_DIR NODE DEST ADDRESS")->type_name("CMD");
}

void add_gc_verb(cli::Tool& tool, cmd::GcArgs& a) {
  auto* v = tool.verb("gc", "Remove unreferenced artifacts that failed or passed their 7-day deadline",
                      [&] { cmd::gc(tool, a); });
  v->add_option("--store", a.settings.store, "The managed store root (default as for build)")->type_name("DIR");
  v->add_option("--grace", a.grace, "Keep unreferenced READY artifacts this long after creation (default 7d)")
      ->type_name("DURATION");
  v->add_flag("--dry-run", a.dry_run, "Say what would be removed, remove nothing");
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-rootfs", "Container image to ext4 rootfs: templates, jobs, distribution");
  tool.cluster_option();

  cmd::ConvertArgs convert;
  add_convert_verb(tool, convert);
  cmd::InspectArgs inspect;
  add_inspect_verb(tool, inspect);

  cmd::BuildArgs build;
  add_build_verb(tool, build);
  cmd::RedoArgs redo;
  add_redo_verb(tool, redo);
  cmd::DistributeArgs distribute;
  add_distribute_verb(tool, distribute);
  tool.verb("list", "List templates with their status and last job", [&] { cmd::list(tool); });
  cmd::TemplateRef show, del;
  tool.verb("show", "Show a template: image, artifact, network policy, replicas, last job",
            [&] { cmd::show(tool, show); })
      ->add_option("TEMPLATE", show.template_id, "Template ID")
      ->required()
      ->type_name("TEMPLATE");
  tool.verb("delete", "Delete a template (its artifact is left to gc)", [&] { cmd::delete_template(tool, del); })
      ->add_option("TEMPLATE", del.template_id, "Template ID")
      ->required()
      ->type_name("TEMPLATE");
  cmd::GcArgs gc;
  add_gc_verb(tool, gc);
  cmd::ConfigArgs cfg;
  tool.verb("config", "Print the effective settings and where each came from", [&] { cmd::config(tool, cfg); })
      ->add_option("--store", cfg.settings.store, "Artifact store")
      ->type_name("DIR");

  return tool.run(argc, argv);
}
