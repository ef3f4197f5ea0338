#include "template_commands.hpp"

#include "ca_bake.hpp"
#include "cleanup.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "image_builder.hpp"
#include "job_runner.hpp"
#include "log.hpp"
#include "output.hpp"
#include "timeutil.hpp"
#include "units.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

namespace cube::rootfs {

namespace {

constexpr std::string_view k_default_store = "/var/lib/cube/rootfs";

std::string store_setting(cli::Tool& tool, const std::string& flag) {
  config::Settings s(tool.config(), "rootfs");
  std::string store = s.text("store", k_default_store, flag.empty() ? std::nullopt : std::optional(flag));
  s.finish();
  if (store.empty() || store[0] != '/') {
    char buf[4096];
    if (::getcwd(buf, sizeof buf)) store = std::string(buf) + "/" + store;
  }
  return store;
}

double margin_setting(std::optional<double> flag) {
  if (flag) {
    if (*flag >= 1.0) return *flag;
    log::warn("ignoring --safety-margin {}: values below 1 are ignored", *flag);
  }
  if (const char* env = std::getenv("CUBE_DISK_SPACE_SAFETY_MARGIN"); env && *env) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (*end == '\0' && v >= 1.0) return v;
    log::warn("ignoring CUBE_DISK_SPACE_SAFETY_MARGIN={:?}: a number of at least 1 is expected", env);
  }
  return 1.5;
}

// The absolute path of an existing file or directory named by a flag (a redo may run elsewhere).
std::string real_path(const std::string& path, std::string_view flag) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf))
    throw Error(errno == ENOENT ? Exit::not_found : Exit::usage, fmt::format("{} {}", flag, path), errno_text(errno));
  return buf;
}

std::string join(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }

void print_template(cli::Tool& tool, state::Db& db, const std::string& id) {
  Catalog cat(db);
  auto t = cat.find_template(id);
  if (!t) throw Error(Exit::not_found, fmt::format("template {} not found", id));
  TemplateRequest r = request_from_json(t->request_json);
  auto job = cat.latest_job(id);
  auto art = t->artifact_id.empty() ? std::nullopt : cat.find_artifact(t->artifact_id);
  std::vector<std::string> replicas, ports;
  for (const auto& rep : cat.replicas(id)) replicas.push_back(rep.node + ":" + rep.status);
  for (int p : r.ports) ports.push_back(std::to_string(p));
  output::Table tab({{"template_id", "Template"},
                     {"status", "Status"},
                     {"image", "Image"},
                     {"source_digest", "Source digest"},
                     {"artifact_id", "Artifact"},
                     {"artifact_status", "Artifact status"},
                     {"ext4_path", "Image file"},
                     {"ext4_size_bytes", "Image bytes", output::Align::right},
                     {"ext4_sha256", "Image SHA-256"},
                     {"instance_type", "Instance type"},
                     {"network_type", "Network type"},
                     {"writable_layer_size", "Writable layer", output::Align::right},
                     {"exposed_ports", "Exposed ports"},
                     {"env", "Env"},
                     {"cmd", "Cmd"},
                     {"allow_internet_access", "Internet access"},
                     {"dns", "DNS servers"},
                     {"allow_out", "Allow out"},
                     {"deny_out", "Deny out"},
                     {"node_scope", "Node scope"},
                     {"ca_fingerprint", "Egress CA"},
                     {"replicas", "Replicas"},
                     {"job_id", "Last job"},
                     {"job_operation", "Operation"},
                     {"job_status", "Job status"},
                     {"job_phase", "Phase"},
                     {"job_progress", "Progress", output::Align::right},
                     {"job_error", "Error"},
                     {"created", "Created"}});
  auto opt = [](const std::string& s) { return s.empty() ? output::Cell() : output::Cell(s); };
  tab.add({t->id,
           output::Cell(t->status, t->status == "READY" ? output::Style::good : output::Style::bad),
           t->image,
           art ? opt(art->digest) : output::Cell(),
           opt(t->artifact_id),
           art ? opt(art->status) : output::Cell(),
           art ? opt(art->ext4_path) : output::Cell(),
           art ? output::Cell(art->ext4_size) : output::Cell(),
           art ? opt(art->ext4_sha256) : output::Cell(),
           t->instance_type,
           t->network_type,
           r.writable_layer_size,
           join(ports),
           join(r.env),
           join(r.cmd),
           !r.no_internet,
           join(r.dns),
           join(r.allow_out),
           join(r.deny_out),
           join(r.node_scope),
           opt(r.ca_fingerprint),
           join(replicas),
           job ? opt(job->id) : output::Cell(),
           job ? opt(job->operation) : output::Cell(),
           job ? opt(job->status) : output::Cell(),
           job ? opt(job->phase) : output::Cell(),
           job ? output::Cell(job->progress) : output::Cell(),
           job ? opt(job->error) : output::Cell(),
           time::rfc3339(t->created_ms)});
  output::print_record(tab, tool.format());
}

// Runs a job; on failure still prints nothing but lets the Error through (the job row says more).
template <typename F>
void run_and_show(cli::Tool& tool, state::Db& db, F&& fn) {
  JobRow j = fn();
  print_template(tool, db, j.template_id);
}

void run_build(cli::Tool& tool, BuildArgs& a) {
  if (!a.template_id.empty())
    log::warn("ignoring --template-id {}: template IDs are always generated (tpl- + 24 hex)", a.template_id);
  TemplateRequest r;
  BuildOptions bo = build_options(a.image_flags);
  r.image = a.image;
  r.pull = a.pull;
  r.store = store_setting(tool, a.store);
  if (!a.image_flags.work_dir.empty())
    r.work_dir = std::filesystem::absolute(a.image_flags.work_dir).lexically_normal();
  r.instance_type = a.instance_type;
  r.network_type = a.network_type;
  r.writable_layer_size = units::parse_size(a.writable_layer_size, "--writable-layer-size");
  r.ports = a.ports;
  r.env = a.env;
  r.cmd = a.cmd;
  r.dns = a.dns;
  r.allow_out = a.allow_out;
  r.deny_out = a.deny_out;
  r.no_internet = a.no_internet;
  r.node_scope = a.node_scope;
  r.add_files = bo.add_files;
  for (auto& f : r.add_files) {
    char buf[4096];
    if (::realpath(f.src.c_str(), buf)) f.src = buf;
  }
  r.dedup_hardlink = a.image_flags.dedup_hardlink;
  r.size = a.image_flags.size;
  r.headroom = bo.size.headroom;
  r.max_entries = a.image_flags.max_entries;
  r.safety_margin = margin_setting(a.safety_margin);
  r.seccomp = !a.image_flags.no_seccomp;
  for (const auto& t : a.to) r.targets.push_back(parse_target(t));
  r.via = a.via;
  if (!a.add_ca.empty()) {
    char buf[4096];
    r.ca_path = ::realpath(a.add_ca.c_str(), buf) ? buf : a.add_ca;
    r.ca_fingerprint = load_ca(r.ca_path).fingerprint;
  }
  if (!a.image.starts_with("oci:") && a.image != "-" && !a.pull) {
    char buf[4096];
    if (::realpath(a.image.c_str(), buf)) r.image = buf;  // a redo may run from another directory
  }
  if (!a.registry_auth.empty()) {
    std::string creds = fs::read_file(a.registry_auth, 64 << 10);
    r.registry_user = creds.substr(0, creds.find(':'));  // the password is never stored
    r.registry_auth = real_path(a.registry_auth, "--registry-auth");
  }
  r.tls_verify = !a.no_tls_verify;
  if (!a.cert_dir.empty()) {
    r.cert_dir = real_path(a.cert_dir, "--cert-dir");
    if (!std::filesystem::is_directory(r.cert_dir))
      throw Error(Exit::usage, fmt::format("--cert-dir {} is not a directory", a.cert_dir),
                  "it holds the registry's CA certificates (*.crt)");
  }
  normalise(r);
  state::Db db = tool.open_state(state::Access::write);
  run_and_show(tool, db, [&] { return build_template(db, r, progress_bar()); });
}

}  // namespace

void add_build_verb(cli::Tool& tool, BuildArgs& a) {
  auto* b = tool.verb("build", "Create a template from an image: build (or reuse) its rootfs artifact, distribute it",
                      [&] { run_build(tool, a); });
  b->add_option("IMAGE", a.image,
                "oci:DIR[:TAG], a docker-archive or rootfs tar, - (stdin), or with --pull a reference")
      ->required()
      ->type_name("IMAGE");
  b->add_option("--store", a.store, "Artifact store (config [rootfs] store; default /var/lib/cube/rootfs)")
      ->type_name("DIR");
  b->add_option("--instance-type", a.instance_type, "Instance type")->type_name("TYPE");
  b->add_option("--network-type", a.network_type, "Network type")
      ->check(CLI::IsMember({"tap", "none"}))
      ->type_name("TYPE");
  b->add_option("--writable-layer-size", a.writable_layer_size, "Size of the sandbox's writable layer")
      ->type_name("SIZE");
  b->add_option("--expose", a.ports, "Expose a guest port (repeatable; at most 3 besides 49983)")->type_name("PORT");
  b->add_option("--env", a.env, "Environment variable KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  b->add_option("--cmd", a.cmd, "Command word (repeatable, in order)")->type_name("ARG");
  b->add_option("--dns", a.dns, "DNS server (repeatable)")->type_name("IP");
  b->add_option("--allow-out", a.allow_out, "Allowed egress CIDR or domain (repeatable)")->type_name("CIDR|DOMAIN");
  b->add_option("--deny-out", a.deny_out, "Denied egress CIDR (repeatable)")->type_name("CIDR");
  b->add_flag("--no-internet", a.no_internet, "No public internet access");
  b->add_option("--node-scope", a.node_scope, "Restrict the template to a node (repeatable)")->type_name("NODE");
  b->add_option("--template-id", a.template_id, "Ignored with a warning: IDs are always generated")->type_name("ID");
  b->add_flag("--pull", a.pull, "IMAGE is a registry reference pulled with skopeo");
  b->add_option("--registry-auth", a.registry_auth, "File holding USER:PASSWORD for --pull")->type_name("FILE");
  b->add_flag("--no-tls-verify", a.no_tls_verify,
              "With --pull: allow plain HTTP and an unverified certificate (an internal registry)");
  b->add_option("--cert-dir", a.cert_dir, "With --pull: the registry's CA certificates (*.crt) and client keys")
      ->type_name("DIR");
  b->add_option("--to", a.to, "Distribute to a node store, NODE=DIR (repeatable)")->type_name("NODE=DIR");
  b->add_option("--via", a.via, "Transfer command run as sh -c CMD _ SRC_DIR NODE DEST")->type_name("CMD");
  b->add_option("--safety-margin", a.safety_margin, "Disk pre-check margin over the image size (default 1.5)")
      ->type_name("X");
  b->add_option("--add-ca", a.add_ca, "Add this CA (PEM) to the image's trust bundles")->type_name("FILE");
  add_image_flags(b, a.image_flags);
}

void add_template_verbs(cli::Tool& tool, RedoArgs& redo, DistributeArgs& dist, TemplateRef& show, TemplateRef& del,
                        GcArgs& gcargs, ConfigArgs& cfg) {
  auto* r = tool.verb("redo", "Resume a template's failed or killed job from its last completed phase", [&] {
    std::string id = ids::check_template_ref(redo.template_id);
    state::Db db = tool.open_state(state::Access::write);
    RedoMode mode = redo.mode == "all" ? RedoMode::all : RedoMode::failed_only;
    run_and_show(tool, db, [&] { return redo_template(db, id, mode, redo.nodes, progress_bar()); });
  });
  r->add_option("TEMPLATE", redo.template_id, "Template ID")->required()->type_name("TEMPLATE");
  r->add_option("--mode", redo.mode, "failed-only (default) or all")
      ->check(CLI::IsMember({"failed-only", "all"}))
      ->type_name("MODE");
  r->add_option("--nodes", redo.nodes, "Only these nodes (comma-separated)")->delimiter(',')->type_name("NODE,...");

  auto* d = tool.verb("distribute", "Copy a template's artifact to node stores (4 workers)", [&] {
    std::string id = ids::check_template_ref(dist.template_id);
    std::vector<Target> targets;
    for (const auto& t : dist.to) targets.push_back(parse_target(t));
    state::Db db = tool.open_state(state::Access::write);
    run_and_show(tool, db, [&] { return distribute_template(db, id, targets, dist.via, progress_bar()); });
  });
  d->add_option("TEMPLATE", dist.template_id, "Template ID")->required()->type_name("TEMPLATE");
  d->add_option("--to", dist.to, "Node store, NODE=DIR (repeatable)")->required()->type_name("NODE=DIR");
  d->add_option("--via", dist.via, "Transfer command run as sh -c CMD _ SRC_DIR NODE DEST")->type_name("CMD");

  tool.verb("list", "List templates with their status and last job", [&] {
    state::Db db = tool.open_state(state::Access::read);
    Catalog cat(db);
    output::Table t({{"template_id", "Template"},
                     {"status", "Status"},
                     {"artifact_id", "Artifact"},
                     {"image", "Image"},
                     {"instance_type", "Instance type"},
                     {"job_phase", "Phase"},
                     {"job_progress", "Progress", output::Align::right},
                     {"replicas_ready", "Replicas", output::Align::right},
                     {"created", "Created"}});
    for (const auto& tpl : cat.templates()) {
      auto job = cat.latest_job(tpl.id);
      int64_t ready = 0;
      for (const auto& rep : cat.replicas(tpl.id)) ready += rep.status == "READY";
      t.add({tpl.id, output::Cell(tpl.status, tpl.status == "READY" ? output::Style::good : output::Style::bad),
             tpl.artifact_id.empty() ? output::Cell() : output::Cell(tpl.artifact_id), tpl.image, tpl.instance_type,
             job ? output::Cell(job->phase) : output::Cell(), job ? output::Cell(job->progress) : output::Cell(), ready,
             time::rfc3339(tpl.created_ms)});
    }
    output::print(t, tool.format());
  });

  auto* s = tool.verb("show", "Show a template: image, artifact, network policy, replicas, last job", [&] {
    std::string id = ids::check_template_ref(show.template_id);
    state::Db db = tool.open_state(state::Access::read);
    print_template(tool, db, id);
  });
  s->add_option("TEMPLATE", show.template_id, "Template ID")->required()->type_name("TEMPLATE");

  auto* x = tool.verb("delete", "Delete a template (its artifact is left to gc)", [&] {
    std::string id = ids::check_template_ref(del.template_id);
    state::Db db = tool.open_state(state::Access::write);
    delete_template(db, id);
    log::info("deleted {}", id);
  });
  x->add_option("TEMPLATE", del.template_id, "Template ID")->required()->type_name("TEMPLATE");

  auto* g = tool.verb("gc", "Remove unreferenced artifacts that failed or passed their 7-day deadline", [&] {
    std::string store = store_setting(tool, gcargs.store);
    std::optional<int64_t> grace;
    if (!gcargs.grace.empty()) grace = units::parse_duration_ms(gcargs.grace, "--grace");
    state::Db db = tool.open_state(state::Access::write);
    output::Table t({{"artifact_id", "Artifact"},
                     {"status", "Status"},
                     {"path", "Image file"},
                     {"bytes", "Bytes", output::Align::right},
                     {"action", "Action"}});
    for (const auto& i : gc(db, store, grace, gcargs.dry_run))
      t.add({i.artifact_id, i.status, i.path, i.bytes, i.action});
    output::print(t, tool.format());
  });
  g->add_option("--store", gcargs.store, "The managed store root (default as for build)")->type_name("DIR");
  g->add_option("--grace", gcargs.grace, "Keep unreferenced READY artifacts this long after creation (default 7d)")
      ->type_name("DURATION");
  g->add_flag("--dry-run", gcargs.dry_run, "Say what would be removed, remove nothing");

  auto* c = tool.verb("config", "Print the effective settings and where each came from", [&] {
    config::Settings st(tool.config(), "rootfs");
    st.text("store", k_default_store, cfg.store.empty() ? std::nullopt : std::optional(cfg.store));
    st.finish();
    cli::print_settings(st, tool.format());
  });
  c->add_option("--store", cfg.store, "Artifact store")->type_name("DIR");
}

}  // namespace cube::rootfs
