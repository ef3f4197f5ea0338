#include "commands.hpp"

#include "ca_bake.hpp"
#include "cleanup.hpp"
#include "cluster_ca.hpp"
#include "cluster_url.hpp"
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

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>

namespace cube::rootfs::cmd {
namespace {

Settings settings(cli::Context& ctx, const SettingFlags& flags) {
  config::Settings s(ctx.config(), "rootfs");
  return load_settings(s, flags);
}

// [rootfs]'s cluster settings and where the cluster tables are: --cluster, else $CUBE_CLUSTER_URL,
// else [state] cluster, else the state file. Only the verbs that bind replicas or ask the
// registry for targets choose, so a bad URL never stops the others.
ClusterSettings cluster_settings(cli::Context& ctx, ClusterSettings c) {
  c.url = ctx.cluster_choice().url;
  return c;
}

// The absolute path of an existing file or directory named by a flag (a redo may run elsewhere).
std::string real_path(const std::string& path, std::string_view flag) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf))
    throw Error(errno == ENOENT ? Exit::not_found : Exit::usage, fmt::format("{} {}", flag, path), errno_text(errno));
  return buf;
}

std::string join(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }

void print_template(output::Format format, state::Db& db, const std::string& id) {
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
  output::print_record(tab, format);
}

// Runs a job; on failure still prints nothing but lets the Error through (the job row says more).
template <typename F>
void run_and_show(cli::Context& ctx, state::Db& db, F&& fn) {
  JobRow j = fn();
  print_template(ctx.format(), db, j.template_id);
}

// `path` made absolute through its symlinks when it exists, else as it is: a redo may run from
// another directory.
std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? buf : path;
}

// A local IMAGE as the request stores it: its path absolute, so that a redo from another directory
// reads the same image.
std::string absolute_image(const std::string& image) {
  if (image == "-" || image.empty() || image[0] == '-') return image;  // normalise() refuses the last two
  std::string cwd = fs::current_dir();
  for (std::string_view prefix : {"oci:", "docker-archive:"}) {
    if (!image.starts_with(prefix)) continue;
    std::string rest = image.substr(prefix.size());
    if (rest.starts_with("/")) return image;
    return cwd.empty() ? image : fmt::format("{}{}/{}", prefix, cwd, rest);
  }
  return image.starts_with("/") || cwd.empty() ? image : fmt::format("{}/{}", cwd, image);
}

// The registry flags of --pull: the user name (the password is never stored), the paths skopeo
// reads, made absolute.
void set_pull(TemplateRequest& r, const BuildArgs& a) {
  if (!a.registry_auth.empty()) {
    std::string creds = fs::read_file(a.registry_auth, 64 << 10);
    r.registry_user = creds.substr(0, creds.find(':'));
    r.registry_auth = real_path(a.registry_auth, "--registry-auth");
  }
  r.tls_verify = !a.no_tls_verify;
  if (!a.cert_dir.empty()) {
    r.cert_dir = real_path(a.cert_dir, "--cert-dir");
    if (!std::filesystem::is_directory(r.cert_dir))
      throw Error(Exit::usage, fmt::format("--cert-dir {} is not a directory", a.cert_dir),
                  "it holds the registry's CA certificates (*.crt)");
  }
}

// The CA the template trusts: --add-ca's file, else the node's cluster CA as [rootfs] cluster_ca
// (or --with-ca / --no-ca) says. Templates run on every node, so they trust the cluster's CA by
// default, and a build says which CA it baked or that it baked none.
void set_ca(cli::Context& ctx, const BuildArgs& a, ClusterCa mode, TemplateRequest& r) {
  if (!a.add_ca.empty()) {
    r.ca_path = resolved(a.add_ca);
    r.ca_fingerprint = load_ca(r.ca_path).fingerprint;
    return;
  }
  if (mode == ClusterCa::none) return;
  std::string cert = cluster_ca::paths(ctx.config()).cert;
  if (!fs::exists(cert)) {
    if (mode == ClusterCa::required)
      throw Error(Exit::not_found, fmt::format("--with-ca: no cluster CA at {}", cert), "",
                  "create it with `cube-egress-rules ca init` or import it with `cube-egress-rules ca import`");
    log::warn(
        "no cluster CA at {}: the template will not trust the egress proxy (cube-egress-rules ca init or "
        "ca import installs it; --no-ca builds without it quietly)",
        cert);
    return;
  }
  r.ca_path = cert;
  r.ca_fingerprint = load_ca(cert).fingerprint;
  if (log::enabled(log::Level::warn))
    log::write(log::Level::info,
               fmt::format("baking the cluster CA {} (PEM SHA-256 {}) into the image; --no-ca opts out", cert,
                           r.ca_fingerprint));
}

// What build's flags ask for, before normalise() checks it.
TemplateRequest template_request(cli::Context& ctx, const BuildArgs& a, const Settings& s) {
  TemplateRequest r;
  BuildOptions bo = build_options(a.image_flags);
  r.image = a.pull ? a.image : absolute_image(a.image);
  r.pull = a.pull;
  r.store = s.store;
  if (!a.image_flags.work_dir.empty()) {
    require_dir(a.image_flags.work_dir, "--work-dir");
    r.work_dir = std::filesystem::absolute(a.image_flags.work_dir).lexically_normal();
  }
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
  for (auto& f : r.add_files) f.src = resolved(f.src);
  r.dedup_hardlink = a.image_flags.dedup_hardlink;
  r.size = a.image_flags.size;
  r.headroom = bo.size.headroom;
  r.max_entries = a.image_flags.max_entries;
  r.safety_margin = safety_margin(a.safety_margin);
  r.seccomp = !a.image_flags.no_seccomp;
  for (const auto& t : a.to) r.targets.push_back(parse_target(t));
  r.via = a.via;
  set_ca(ctx, a, s.cluster_ca, r);
  if (!a.image.starts_with("oci:") && a.image != "-" && !a.pull) r.image = resolved(a.image);
  set_pull(r, a);
  return r;
}

}  // namespace

void build(cli::Context& ctx, const BuildArgs& a) {
  if (!a.template_id.empty())
    log::warn("ignoring --template-id {}: template IDs are always generated (tpl- + 24 hex)", a.template_id);
  Settings s = settings(ctx, a.settings);
  TemplateRequest r = template_request(ctx, a, s);
  normalise(r);
  ClusterSettings cluster = cluster_settings(ctx, s.cluster);
  state::Db db = ctx.open_state(state::Access::write);
  run_and_show(ctx, db, [&] { return build_template(db, r, cluster, progress_bar()); });
}

void redo(cli::Context& ctx, const RedoArgs& a) {
  std::string id = ids::check_template_ref(a.template_id);
  ClusterSettings cluster = cluster_settings(ctx, settings(ctx, {}).cluster);
  state::Db db = ctx.open_state(state::Access::write);
  RedoMode mode = a.mode == "all" ? RedoMode::all : RedoMode::failed_only;
  run_and_show(ctx, db, [&] { return redo_template(db, id, mode, a.nodes, cluster, progress_bar()); });
}

void distribute(cli::Context& ctx, const DistributeArgs& a) {
  std::string id = ids::check_template_ref(a.template_id);
  std::vector<Target> targets;
  for (const auto& t : a.to) targets.push_back(parse_target(t));
  ClusterSettings cluster = cluster_settings(ctx, settings(ctx, {}).cluster);
  state::Db db = ctx.open_state(state::Access::write);
  run_and_show(ctx, db, [&] { return distribute_template(db, id, targets, a.via, cluster, progress_bar()); });
}

void list(cli::Context& ctx) {
  state::Db db = ctx.open_state(state::Access::read);
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
  output::print(t, ctx.format());
}

void show(cli::Context& ctx, const TemplateRef& a) {
  std::string id = ids::check_template_ref(a.template_id);
  state::Db db = ctx.open_state(state::Access::read);
  print_template(ctx.format(), db, id);
}

void delete_template(cli::Context& ctx, const TemplateRef& a) {
  std::string id = ids::check_template_ref(a.template_id);
  state::Db db = ctx.open_state(state::Access::write);
  for (const auto& i : rootfs::delete_template(db, id)) log::info("{}: {} ({})", i.status, i.action, i.path);
  log::info("deleted {}", id);
}

void gc(cli::Context& ctx, const GcArgs& a) {
  std::string store = settings(ctx, a.settings).store;
  std::optional<int64_t> grace;
  if (!a.grace.empty()) grace = units::parse_duration_ms(a.grace, "--grace");
  state::Db db = ctx.open_state(state::Access::write);
  output::Table t({{"artifact_id", "Artifact"},
                   {"status", "Status"},
                   {"path", "Image file"},
                   {"bytes", "Bytes", output::Align::right},
                   {"action", "Action"}});
  for (const auto& i : rootfs::gc(db, store, grace, a.dry_run))
    t.add({i.artifact_id, i.status, i.path, i.bytes, i.action});
  output::print(t, ctx.format());
}

void config(cli::Context& ctx, const ConfigArgs& a) {
  config::Settings s(ctx.config(), "rootfs");
  load_settings(s, a.settings);
  cluster::Choice where = ctx.cluster_choice();
  cli::print_settings(s, ctx.format(), &where);
}

}  // namespace cube::rootfs::cmd
