#include "job_runner.hpp"

#include "build_child.hpp"
#include "ca_bake.hpp"
#include "cluster_targets.hpp"
#include "distribution.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "image_source.hpp"
#include "json_writer.hpp"
#include "lock_file.hpp"
#include "log.hpp"
#include "registry_pull.hpp"
#include "sha256.hpp"
#include "timeutil.hpp"
#include "units.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

namespace cube::rootfs {
namespace {

void pause_if_asked(Phase p) {
  const char* at = std::getenv("CUBE_ROOTFS_PAUSE_AT");
  if (!at || phase_name(p) != at) return;
  log::warn("pausing at {} (CUBE_ROOTFS_PAUSE_AT)", phase_name(p));
  for (int i = 0; i < 600; ++i) ::sleep(1);
}

void remove_file(const std::string& p) { ::unlink(p.c_str()); }

class JobRunner {
 public:
  JobRunner(Catalog cat, JobRow job, TemplateRequest req, ProgressFn bar)
      : m_cat(cat), m_job(std::move(job)), m_req(std::move(req)), m_bar(std::move(bar)) {}

  void run(Phase from, const RunScope& scope) {
    try {
      steps(from, scope);
    } catch (const Error& e) {
      fail(e.message());
      throw;
    }
  }

 private:
  void phase(Phase p, int pct) {
    m_phase = p;
    m_cat.job_phase(m_job.id, p, pct);
    if (m_bar) m_bar(phase_name(p), pct);
    pause_if_asked(p);
  }

  void steps(Phase from, const RunScope& scope) {
    fs::make_dirs(m_req.store, 0755);
    if (from > Phase::building_ext4 && !lock_template_artifact()) from = Phase::building_ext4;  // gone: rebuild it
    if (from <= Phase::building_ext4) {
      if (from == Phase::pulling) phase(Phase::pulling, 5);
      ImageSource src = prepare_source(from == Phase::pulling);
      m_fingerprint = spec_fingerprint(m_req, src.digest);
      m_artifact_id = artifact_id_of(m_fingerprint);
      m_cat.job_source(m_job, src.digest, m_fingerprint, m_artifact_id);
      lock_artifact();
      auto art = m_cat.find_artifact(m_artifact_id);  // after the lock: the job before may have built it
      if (is_ready(art) && art->store_dir == m_req.store) {
        log::info("reusing artifact {} (same spec fingerprint)", m_artifact_id);
      } else {
        build(src);
      }
      m_source_cleanup();
    }
    distribute(scope);
    m_cat.job_done(m_job.id, m_job.template_id);
    if (m_bar) m_bar("READY", 100);
    remove_incoming();
  }

  // Jobs of one artifact run one at a time, from the choice to build or reuse it until the job
  // ends (its failure recorded, its fresh artifact removed): two at once removed each other's files,
  // marked the other's artifact failed, or copied an artifact the other removed when no node got it.
  // The next job then finds the artifact READY and reuses it, or builds it afresh.
  static bool is_ready(const std::optional<ArtifactRow>& art) {
    return art && art->status == "READY" && fs::exists(art->ext4_path);
  }

  // A redo past the build distributes the template's artifact: locked, and still READY once the
  // lock is ours (a job that held it may have removed it when no node got it). False, and no lock
  // held, when it is gone.
  bool lock_template_artifact() {
    auto tpl = m_cat.find_template(m_job.template_id);
    if (!tpl || tpl->artifact_id.empty()) return false;
    m_artifact_id = tpl->artifact_id;
    lock_artifact();
    if (is_ready(m_cat.find_artifact(m_artifact_id))) return true;
    m_lock.reset();
    return false;
  }

  void lock_artifact() {
    std::string path = artifact_lock_path(m_req.store, m_artifact_id);
    fs::make_dirs(fs::dirname(path), 0700);
    m_lock.emplace(path, [this] {
      log::warn("another job or gc is working on artifact {}: waiting for it to end", m_artifact_id);
    });
  }

  std::string incoming(const std::string& suffix) const {
    return fmt::format("{}/.incoming/{}{}", m_req.store, m_job.template_id, suffix);
  }
  void remove_incoming() {
    remove_file(incoming(".tar"));
    remove_file(incoming("-auth.json"));  // left only by a process killed while pulling
    std::error_code ec;
    std::filesystem::remove_all(incoming("-oci"), ec);
  }

  // The image as a local file or layout: stdin and pulled images are kept under .incoming/ until
  // the template is READY, so a redo can read them again.
  ImageSource prepare_source(bool first) {
    fs::make_dirs(m_req.store + "/.incoming", 0700);
    std::string input = m_req.image;
    if (m_req.image == "-") {
      input = incoming(".tar");
      if (first && !fs::exists(input)) save_stdin(input);
      if (!fs::exists(input))
        throw Error(Exit::not_found, "the standard input of the first build is gone", "", "build the template again");
    } else if (m_req.pull) {
      input = "oci:" + incoming("-oci") + ":image";
      if (first || !fs::exists(incoming("-oci"))) pull(incoming("-oci"));
    }
    ImageSource src = resolve_source(input, m_req.store + "/.incoming");
    if (src.type == SourceType::rootfs_tar) src.digest = "sha256:" + sha256_file(src.layers.at(0).file);
    return src;
  }

  void pull(const std::string& dir) {
    PullRequest p;
    p.ref = m_req.image;
    p.layout = dir;
    p.auth_file = m_req.registry_auth;
    p.auth_tmp = incoming("-auth.json");
    p.tls_verify = m_req.tls_verify;
    p.cert_dir = m_req.cert_dir;
    pull_image(p);
  }

  void build(ImageSource& src) {
    ArtifactPaths p = artifact_paths(m_req.store, m_artifact_id);
    phase(Phase::unpacking, 20);
    // A killed earlier attempt may have left files: start the artifact afresh. Its `.part` is
    // left to PartFile, which replaces one no writer holds and never one a writer does.
    for (const auto& f : {p.ext4, p.files, p.manifest}) remove_file(f);
    fs::make_dirs(p.dir, 0755);
    m_cat.artifact_building(m_artifact_id, m_fingerprint, m_req.image, src.digest, m_req.store);
    m_fresh_artifact = true;
    fs::SpaceInfo space = fs::space(m_req.store);
    // On NFS, CIFS or FUSE the image is written on a local disk and moved in afterwards.
    std::string work = space.network ? (m_req.work_dir.empty() ? "/var/tmp/cube-rootfs-work" : m_req.work_dir) : "";
    if (!work.empty()) fs::make_dirs(work, 0700);
    BuildOptions opt;
    opt.output = work.empty() ? p.ext4 : work + "/" + m_artifact_id + ".ext4";
    // The image in the work directory goes on every way out: moved in, or removed with a failure
    // (a kill -9 leaves it for the next attempt, which starts it afresh here).
    std::optional<TempFile> work_image;
    if (!work.empty()) {
      remove_file(opt.output);
      work_image.emplace(opt.output);
    }
    opt.files_jsonl = p.files;
    opt.spool_dir = work.empty() ? p.dir : work;
    opt.size.mode = m_req.size == "exact" ? SizeMode::exact : m_req.size == "model" ? SizeMode::model : SizeMode::fixed;
    if (opt.size.mode == SizeMode::fixed) opt.size.fixed_bytes = units::parse_size(m_req.size, "--size");
    opt.size.headroom = m_req.headroom;
    opt.limits.max_entries = m_req.max_entries;
    opt.add_files = m_req.add_files;
    opt.dedup_hardlink = m_req.dedup_hardlink;
    if (!m_req.ca_path.empty()) {
      CaCert ca = load_ca(m_req.ca_path);
      if (ca.fingerprint != m_req.ca_fingerprint)
        throw Error(Exit::usage, fmt::format("the CA {} changed since the template was requested", m_req.ca_path),
                    "its SHA-256 is part of the spec fingerprint", "build the template again");
      opt.edit_tree = [ca](Tree& t) { return bake_ca(t, ca); };
    }
    std::string store = m_req.store;
    double margin = m_req.safety_margin;
    opt.before_write = [store, work, margin](const FsParams& fsp) {
      check_disk(store, fsp.bytes, margin);
      if (!work.empty()) check_disk(work, fsp.bytes, margin);  // the image is whole in both, one after the other
    };
    bool building = false;
    opt.progress = [&](std::string_view ph, int pct) {
      if (ph == "UNPACKING") {
        m_cat.job_progress(m_job.id, 20 + pct / 5);
      } else if (!building) {
        building = true;
        phase(Phase::building_ext4, 40);
      } else {
        m_cat.job_progress(m_job.id, 40 + pct * 3 / 10);
      }
      if (m_bar) m_bar(ph, ph == "UNPACKING" ? 20 + pct / 5 : 40 + pct * 3 / 10);
    };
    Isolation iso{m_req.seccomp, {m_req.store}, {}};
    if (!work.empty()) iso.writable_dirs.push_back(work);
    for (const auto& l : src.layers) iso.readable_paths.push_back(l.file);
    for (const auto& a : m_req.add_files) iso.readable_paths.push_back(a.src);
    BuildResult r = build_isolated(src, opt, iso);
    if (!building) phase(Phase::building_ext4, 70);
    if (!work.empty()) move_in(opt.output, p.ext4);
    ArtifactRow a;
    a.id = m_artifact_id;
    a.ext4_path = p.ext4;
    a.ext4_sha256 = r.image_sha256;
    a.ext4_size = static_cast<int64_t>(r.image_bytes);
    a.files_path = p.files;
    a.ca_fingerprint = m_req.ca_fingerprint;
    a.ca_targets = r.edited;
    write_manifest(p, r, src);
    m_cat.artifact_ready(a, src.config_json, to_json(m_req), static_cast<int64_t>(m_req.writable_layer_size));
    m_fresh_artifact = false;
    m_built_here = true;
  }

  static void check_disk(const std::string& store, uint64_t image_bytes, double margin) {
    fs::SpaceInfo s = fs::space(store);
    double required = static_cast<double>(image_bytes) * margin;
    if (static_cast<double>(s.available_bytes) < required)
      throw Error(Exit::conflict,
                  fmt::format("insufficient disk space in {}: available={:.1f} GiB, estimated_required={:.1f} GiB",
                              store, s.available_bytes / 1073741824.0, required / 1073741824.0),
                  fmt::format("image size {} × {:.1f} safety margin", units::format_size(image_bytes), margin),
                  "free space, or lower CUBE_DISK_SPACE_SAFETY_MARGIN / --safety-margin");
  }

  static void move_in(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) == 0) return;
    if (errno != EXDEV) throw sys_error(errno, "moving the image into the store");
    copy_sparse(from, to);
    remove_file(from);
  }

  void write_manifest(const ArtifactPaths& p, const BuildResult& r, const ImageSource& src) {
    json::Writer w(2);
    w.begin_object();
    w.field("artifact_id", m_artifact_id);
    w.field("template_id", m_job.template_id);
    w.field("spec_fingerprint", m_fingerprint);
    w.field("source_image_ref", m_req.image);
    w.field("source_image_digest", src.digest);
    w.field("source_type", source_type_name(src.type));
    w.key("layer_digests");
    w.begin_array();
    for (const auto& d : r.layer_digests) w.value(d);
    w.end_array();
    w.field("ext4_file", m_artifact_id + ".ext4");
    w.field("ext4_sha256", r.image_sha256);
    w.field("ext4_size_bytes", r.image_bytes);
    w.field("inodes", r.stats.inodes);
    w.field("writable_layer_size", m_req.writable_layer_size);
    w.field("cube_egress_ca_fingerprint", m_req.ca_fingerprint);
    w.field("created", time::rfc3339(time::now_ms()));
    w.end_object();
    fs::atomic_write(p.manifest, w.str() + "\n", 0644);
  }

  std::vector<Target> targets_for(const RunScope& scope) {
    std::vector<Target> out;
    std::map<std::string, std::string> status;
    for (const auto& r : m_cat.replicas(m_job.template_id)) status[r.node] = r.status;
    for (const auto& t : scope.targets) {
      if (!scope.nodes.empty() && std::find(scope.nodes.begin(), scope.nodes.end(), t.node) == scope.nodes.end())
        continue;
      if (scope.failed_only && status[t.node] == "READY") continue;
      out.push_back(t);
    }
    return out;
  }

  void distribute(const RunScope& scope) {
    phase(Phase::distributing, 70);
    std::vector<Target> targets = targets_for(scope);
    if (targets.empty()) return;
    ArtifactPaths p = artifact_paths(m_req.store, m_artifact_id);
    for (const auto& t : targets) m_cat.replica_pending(m_job.template_id, t.node, t.dir, m_artifact_id, m_job.id);
    int64_t ready = 0, failed = 0;
    std::string first_error;
    m_cat.job_nodes(m_job.id, static_cast<int64_t>(targets.size()), 0, 0);
    distribute_artifact(p.dir, m_artifact_id, targets, m_req.via, [&](const CopyResult& r) {
      m_cat.replica_result(m_job.template_id, r.target.node, r.ok, r.error);
      (r.ok ? ready : failed)++;
      if (!r.ok && first_error.empty()) first_error = r.target.node + ": " + r.error;
      if (!r.ok) log::warn("node {}: {}", r.target.node, r.error);
      m_cat.job_nodes(m_job.id, static_cast<int64_t>(targets.size()), ready, failed);
      int pct = 70 + static_cast<int>(15 * (ready + failed) / static_cast<int64_t>(targets.size()));
      m_cat.job_progress(m_job.id, pct);
      if (m_bar) m_bar("DISTRIBUTING", pct);
    });
    if (ready == 0) {
      std::string error = fmt::format("artifact distribution failed on all {} nodes: {}", targets.size(), first_error);
      if (m_built_here) remove_fresh_artifact(targets, error);
      throw Error(Exit::failed, error);
    }
  }

  // An artifact this job built that no node got is removed, as upstream does: its copies on the
  // nodes (the part a failed copy left), its files here, its row. What cannot be removed keeps
  // the row FAILED with "artifact cleanup incomplete", naming it, for gc to retry.
  void remove_fresh_artifact(const std::vector<Target>& targets, const std::string& why) {
    std::vector<std::string> left;
    for (const auto& t : targets) {
      if (t.local) continue;  // this node's copy is the artifact's own directory, removed below
      if (!m_req.via.empty()) {
        left.push_back(t.node);  // a --via destination is not a path this process can reach
        continue;
      }
      std::error_code ec;
      std::string copy = t.dir + "/" + m_artifact_id;
      if (std::filesystem::is_directory(t.dir, ec)) std::filesystem::remove_all(copy, ec);
      if (ec) left.push_back(t.node);
    }
    ArtifactPaths p = artifact_paths(m_req.store, m_artifact_id);
    std::error_code ec;
    std::filesystem::remove_all(p.dir, ec);
    if (ec) left.push_back("local store");
    if (left.empty()) {
      m_cat.delete_artifact(m_artifact_id);
      if (m_lock) m_lock->remove();  // gc removes the lock files of the rows it deletes; this row is gone
      log::warn("removed artifact {}: no node got a copy", m_artifact_id);
    } else {
      m_cat.artifact_failed(m_artifact_id,
                            fmt::format("artifact cleanup incomplete: {} ({})", fmt::join(left, ","), why));
    }
  }

  void fail(const std::string& message) {
    try {
      if (m_fresh_artifact && !m_artifact_id.empty()) {
        ArtifactPaths p = artifact_paths(m_req.store, m_artifact_id);
        for (const auto& f : {p.ext4, p.files, p.manifest}) remove_file(f);  // the builder removes its .part
        ::rmdir(p.dir.c_str());
        m_cat.artifact_failed(m_artifact_id, message);
      }
      m_cat.job_failed(m_job.id, m_job.template_id, message);
    } catch (const Error& e) {
      log::error("recording the failure of job {}: {}", m_job.id, e.message());
    }
  }

 public:
  std::function<void()> m_source_cleanup = [] {};

 private:
  Catalog m_cat;
  JobRow m_job;
  TemplateRequest m_req;
  ProgressFn m_bar;
  Phase m_phase = Phase::pulling;
  std::string m_fingerprint, m_artifact_id;
  bool m_fresh_artifact = false;
  bool m_built_here = false;           // this job built the artifact (not reused it)
  std::optional<fs::LockFile> m_lock;  // held until the runner goes, after fail()
};

// The template's targets from cube-sched's registry, each node said on stderr: a target or why it
// was left out (-v), or a warning when the template's node scope names it.
ClusterTargets targets_from_cluster(state::Db& db, const TemplateRow& tpl, const TemplateRequest& req,
                                    const ClusterSettings& cluster) {
  ClusterTargets ct = cluster_targets(db, {tpl.instance_type, req.node_scope, req.store, cluster, time::now_ms()});
  for (const auto& t : ct.targets)
    log::info("node {}: target, store {}{}", t.node, t.dir, t.local ? " (this node: no copy)" : "");
  for (const auto& e : ct.excluded) {
    if (e.scoped)
      log::warn("node {} of the template's node scope is left out: {}", e.node, e.why);
    else
      log::info("node {}: left out: {}", e.node, e.why);
  }
  return ct;
}

[[noreturn]] void no_eligible_node(const TemplateRow& tpl, const ClusterTargets& ct) {
  throw Error(Exit::not_found,
              fmt::format("no eligible node for template {} of instance type {}", tpl.id, tpl.instance_type),
              explain(ct.excluded),
              "register nodes of that type with cube-sched and keep them heartbeating, set [rootfs] node_store, or "
              "name the nodes with --to NODE=DIR");
}

// Every node --nodes names must be a target; else not_found, with why the cluster left it out.
void check_known(const std::vector<std::string>& nodes, const std::vector<Target>& targets,
                 const std::vector<Exclusion>& excluded, bool from_cluster) {
  std::vector<std::string> unknown;
  std::vector<Exclusion> why;
  for (const auto& n : nodes) {
    if (std::any_of(targets.begin(), targets.end(), [&](const Target& t) { return t.node == n; })) continue;
    unknown.push_back(n);
    auto e = std::find_if(excluded.begin(), excluded.end(), [&](const Exclusion& x) { return x.node == n; });
    why.push_back(e != excluded.end() ? *e : Exclusion{n, "not registered", false});
  }
  if (unknown.empty()) return;
  throw Error(Exit::not_found, fmt::format("target nodes are not healthy or not found: {}", fmt::join(unknown, ",")),
              from_cluster ? explain(why) : "",
              from_cluster ? "the template has no --to list: its targets are cube-sched's healthy nodes of its type"
                           : "give them with cube-rootfs distribute --to NODE=DIR first");
}

}  // namespace

std::string artifact_lock_path(const std::string& store, const std::string& id) {
  return fmt::format("{}/.locks/{}", store, id);
}

ArtifactPaths artifact_paths(const std::string& store, const std::string& id) {
  std::string dir = store + "/" + id;
  return {dir, dir + "/" + id + ".ext4", dir + "/" + id + ".files.jsonl", dir + "/manifest.json"};
}

JobRow build_template(state::Db& db, TemplateRequest req, const ClusterSettings& cluster, const ProgressFn& bar) {
  Catalog cat(db, cluster.heartbeat_timeout_ms, cluster.url);
  req.template_id = new_template_id();
  cat.create_template(req.template_id, req.image, req.instance_type, req.network_type, to_json(req));
  JobRow job = cat.start_job(req.template_id, "CREATE", Phase::pulling);
  JobRunner runner(cat, job, req, bar);
  runner.run(Phase::pulling, {req.targets, {}, false});
  return *cat.job(job.id);
}

JobRow redo_template(state::Db& db, const std::string& template_id, RedoMode mode,
                     const std::vector<std::string>& nodes, const ClusterSettings& cluster, const ProgressFn& bar) {
  Catalog cat(db, cluster.heartbeat_timeout_ms, cluster.url);
  auto tpl = cat.find_template(template_id);
  if (!tpl) throw Error(Exit::not_found, fmt::format("template {} not found", template_id));
  TemplateRequest req = request_from_json(tpl->request_json);
  if (req.template_id != tpl->id)
    throw Error(Exit::failed, "generated template request id mismatch",
                fmt::format("the stored request names {}", req.template_id));
  auto last = cat.latest_job(template_id);
  Phase from = Phase::pulling;
  if (last) {
    if (last->status == "RUNNING" && runner_alive(*last))
      throw Error(Exit::conflict,
                  fmt::format("job {} of {} is still running (pid {})", last->id, template_id, last->runner_pid));
    if (last->status == "RUNNING") cat.job_failed(last->id, template_id, "interrupted: its process is gone");
    Phase p = parse_phase(last->phase);
    from = p == Phase::pulling         ? Phase::pulling
           : p <= Phase::building_ext4 ? Phase::building_ext4
                                       : Phase::distributing;
    if (last->status == "READY") from = Phase::distributing;
  }
  RunScope scope{req.targets, nodes, mode == RedoMode::failed_only};
  std::vector<Exclusion> excluded;
  if (req.targets.empty()) {
    ClusterTargets ct = targets_from_cluster(db, *tpl, req, cluster);
    if (ct.targets.empty() && from == Phase::distributing) no_eligible_node(*tpl, ct);
    if (ct.targets.empty()) log::info("no node to copy to: {}", explain(ct.excluded));
    scope.targets = std::move(ct.targets);
    excluded = std::move(ct.excluded);
  }
  check_known(nodes, scope.targets, excluded, req.targets.empty());
  if (from == Phase::distributing && mode == RedoMode::failed_only && last && last->status == "READY") {
    std::map<std::string, std::string> status;
    for (const auto& r : cat.replicas(template_id)) status[r.node] = r.status;
    bool any = std::any_of(scope.targets.begin(), scope.targets.end(), [&](const Target& t) {
      return status[t.node] != "READY" &&
             (nodes.empty() || std::find(nodes.begin(), nodes.end(), t.node) != nodes.end());
    });
    if (!any) throw Error(Exit::not_found, "no failed template replicas matched redo request", "", "use --mode all");
  }
  std::string scope_json = "[";
  for (size_t i = 0; i < nodes.size(); ++i) scope_json += (i ? ",\"" : "\"") + nodes[i] + "\"";
  scope_json += "]";
  JobRow job = cat.start_job(template_id, "REDO", from, last ? last->id : "",
                             mode == RedoMode::all ? "ALL" : "FAILED_ONLY", scope_json);
  JobRunner runner(cat, job, req, bar);
  runner.run(from, scope);
  return *cat.job(job.id);
}

JobRow distribute_template(state::Db& db, const std::string& template_id, const std::vector<Target>& targets,
                           const std::string& via, const ClusterSettings& cluster, const ProgressFn& bar) {
  Catalog cat(db, cluster.heartbeat_timeout_ms, cluster.url);
  auto tpl = cat.find_template(template_id);
  if (!tpl) throw Error(Exit::not_found, fmt::format("template {} not found", template_id));
  auto art = tpl->artifact_id.empty() ? std::nullopt : cat.find_artifact(tpl->artifact_id);
  if (!art || art->status != "READY")
    throw Error(Exit::conflict, fmt::format("template {} has no READY artifact", template_id), "",
                fmt::format("cube-rootfs redo {} --mode all", template_id));
  TemplateRequest req = request_from_json(tpl->request_json);
  std::vector<Target> run_targets = targets;
  if (targets.empty()) {
    ClusterTargets ct = targets_from_cluster(db, *tpl, req, cluster);
    if (ct.targets.empty()) no_eligible_node(*tpl, ct);
    run_targets = std::move(ct.targets);
  }
  std::vector<std::string> nodes;
  for (const auto& t : run_targets) nodes.push_back(t.node);
  for (const auto& t : targets) {
    std::erase_if(req.targets, [&](const Target& o) { return o.node == t.node; });
    req.targets.push_back(t);
  }
  if (!via.empty()) req.via = via;
  {
    state::Transaction tx(db);
    db.prepare("UPDATE templates SET request_json = ?, updated_ms = ? WHERE template_id = ?")
        .bind_all(to_json(req), time::now_ms(), template_id)
        .run();
    tx.commit();
  }
  JobRow job = cat.start_job(template_id, "DISTRIBUTE", Phase::distributing);
  JobRunner runner(cat, job, req, bar);
  runner.run(Phase::distributing, {run_targets, nodes, false});
  return *cat.job(job.id);
}

}  // namespace cube::rootfs
