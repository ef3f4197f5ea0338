#include "catalog.hpp"

#include "compat.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "health.hpp"
#include "ids.hpp"
#include "timeutil.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>

namespace cube::rootfs {
namespace {

constexpr std::array<std::string_view, 5> k_phases = {"PULLING", "UNPACKING", "BUILDING_EXT4", "DISTRIBUTING", "READY"};
constexpr int64_t k_gc_grace_ms = 7LL * 24 * 3600 * 1000;

const char* k_job_cols =
    "job_id, template_id, operation, redo_mode, resume_phase, artifact_id, spec_fingerprint, source_image_digest, "
    "status, phase, error_message, retry_of_job_id, runner_start, attempt_no, progress, expected_node_count, "
    "ready_node_count, failed_node_count, runner_pid, created_ms, updated_ms";

JobRow read_job(state::Statement& s) {
  JobRow j;
  std::string* text[] = {&j.id,          &j.template_id, &j.operation,   &j.redo_mode, &j.resume_phase,
                         &j.artifact_id, &j.fingerprint, &j.digest,      &j.status,    &j.phase,
                         &j.error,       &j.retry_of,    &j.runner_start};
  for (int i = 0; i < 13; ++i) *text[i] = s.text(i);
  int64_t* num[] = {&j.attempt, &j.progress,   &j.expected,   &j.ready,
                    &j.failed,  &j.runner_pid, &j.created_ms, &j.updated_ms};
  for (int i = 0; i < 8; ++i) *num[i] = s.integer(13 + i);
  return j;
}

const char* k_tpl_cols =
    "template_id, status, artifact_id, source_image_ref, instance_type, network_type, request_json, last_job_id, "
    "created_ms, updated_ms";

TemplateRow read_template(state::Statement& s) {
  TemplateRow t{std::string(s.text(0)), std::string(s.text(1)),
                std::string(s.text(2)), std::string(s.text(3)),
                std::string(s.text(4)), std::string(s.text(5)),
                std::string(s.text(6)), std::string(s.text(7)),
                s.integer(8),           s.integer(9)};
  return t;
}

const char* k_art_cols =
    "artifact_id, spec_fingerprint, source_image_ref, source_image_digest, store_dir, ext4_path, ext4_sha256, "
    "files_path, status, last_error, cube_egress_ca_fingerprint, ext4_size_bytes, gc_deadline_ms, "
    "cube_egress_ca_targets_written, created_ms";

ArtifactRow read_artifact(state::Statement& s) {
  ArtifactRow a;
  std::string* text[] = {&a.id,          &a.fingerprint, &a.image,  &a.digest,     &a.store_dir,     &a.ext4_path,
                         &a.ext4_sha256, &a.files_path,  &a.status, &a.last_error, &a.ca_fingerprint};
  for (int i = 0; i < 11; ++i) *text[i] = s.text(i);
  a.ext4_size = s.integer(11);
  a.gc_deadline_ms = s.integer(12);
  a.ca_targets = s.integer(13);
  a.created_ms = s.integer(14);
  return a;
}

}  // namespace

std::string_view phase_name(Phase p) { return k_phases[static_cast<size_t>(p)]; }

Phase parse_phase(std::string_view name) {
  for (size_t i = 0; i < k_phases.size(); ++i)
    if (k_phases[i] == name) return static_cast<Phase>(i);
  throw Error(Exit::failed, fmt::format("unknown job phase \"{}\" in the state file", name));
}

std::string process_start(int pid) {
  // /proc files report size 0, so read them directly rather than through fs::read_file.
  Fd fd(::open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[4096];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return {};
  std::string stat(buf, static_cast<size_t>(n));
  // Field 22, counted after the command name (which may hold spaces) closed by ')'.
  size_t p = stat.rfind(')');
  if (p == std::string::npos) return {};
  int field = 2;
  for (size_t i = p + 1; i < stat.size(); ++i) {
    if (stat[i] != ' ') continue;
    if (++field == 22) return stat.substr(i + 1, stat.find(' ', i + 1) - i - 1);
  }
  return {};
}

bool runner_alive(const JobRow& j) {
  if (j.runner_pid <= 0) return false;
  std::string now = process_start(static_cast<int>(j.runner_pid));
  return !now.empty() && now == j.runner_start;
}

void Catalog::create_template(const std::string& id, const std::string& image, const std::string& instance_type,
                              const std::string& network_type, const std::string& request_json) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "INSERT INTO templates (template_id, status, source_image_ref, instance_type, network_type, request_json, "
          "created_ms, updated_ms) VALUES (?, 'BUILDING', ?, ?, ?, ?, ?, ?)")
      .bind_all(id, image, instance_type, network_type, request_json, now, now)
      .run();
  tx.commit();
}

JobRow Catalog::start_job(const std::string& template_id, const std::string& operation, Phase phase,
                          const std::string& retry_of, const std::string& redo_mode, const std::string& scope_json) {
  state::Transaction tx(m_db);
  auto q = m_db.prepare("SELECT COALESCE(MAX(attempt_no), 0) FROM jobs WHERE template_id = ?");
  q.bind_all(template_id);
  q.step();
  int64_t attempt = q.integer(0) + 1;
  q.reset();
  std::string id = "job-" + ids::random_hex24();
  int64_t now = time::now_ms();
  m_db.prepare(
          "INSERT INTO jobs (job_id, template_id, attempt_no, retry_of_job_id, operation, redo_mode, redo_scope_json, "
          "resume_phase, status, phase, progress, runner_pid, runner_start, created_ms, updated_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?)")
      .bind_all(id, template_id, attempt, retry_of, operation, redo_mode, scope_json,
                retry_of.empty() ? std::string() : std::string(phase_name(phase)), std::string(phase_name(phase)),
                phase == Phase::pulling ? 5 : 0, static_cast<int64_t>(::getpid()), process_start(::getpid()), now, now)
      .run();
  m_db.prepare(
          "UPDATE templates SET last_job_id = ?, status = CASE WHEN status = 'READY' THEN status ELSE "
          "'BUILDING' END, updated_ms = ? WHERE template_id = ?")
      .bind_all(id, now, template_id)
      .run();
  tx.commit();
  return *job(id);
}

void Catalog::job_phase(const std::string& job_id, Phase phase, int progress) {
  state::Transaction tx(m_db);
  m_db.prepare("UPDATE jobs SET phase = ?, progress = ?, updated_ms = ? WHERE job_id = ?")
      .bind_all(std::string(phase_name(phase)), progress, time::now_ms(), job_id)
      .run();
  tx.commit();
}

void Catalog::job_progress(const std::string& job_id, int progress) {
  state::Transaction tx(m_db);
  m_db.prepare("UPDATE jobs SET progress = MAX(progress, ?), updated_ms = ? WHERE job_id = ?")
      .bind_all(progress, time::now_ms(), job_id)
      .run();
  tx.commit();
}

void Catalog::job_source(const JobRow& job, const std::string& digest, const std::string& fingerprint,
                         const std::string& artifact_id) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "UPDATE jobs SET source_image_digest = ?, spec_fingerprint = ?, artifact_id = ?, updated_ms = ? "
          "WHERE job_id = ?")
      .bind_all(digest, fingerprint, artifact_id, now, job.id)
      .run();
  m_db.prepare("UPDATE templates SET artifact_id = ?, updated_ms = ? WHERE template_id = ?")
      .bind_all(artifact_id, now, job.template_id)
      .run();
  tx.commit();
}

void Catalog::job_nodes(const std::string& job_id, int64_t expected, int64_t ready, int64_t failed) {
  state::Transaction tx(m_db);
  m_db.prepare(
          "UPDATE jobs SET expected_node_count = ?, ready_node_count = ?, failed_node_count = ?, "
          "updated_ms = ? WHERE job_id = ?")
      .bind_all(expected, ready, failed, time::now_ms(), job_id)
      .run();
  tx.commit();
}

void Catalog::job_done(const std::string& job_id, const std::string& template_id) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "UPDATE jobs SET status = 'READY', phase = 'READY', progress = 100, error_message = '', "
          "updated_ms = ? WHERE job_id = ?")
      .bind_all(now, job_id)
      .run();
  m_db.prepare("UPDATE templates SET status = 'READY', updated_ms = ? WHERE template_id = ?")
      .bind_all(now, template_id)
      .run();
  tx.commit();
}

void Catalog::job_failed(const std::string& job_id, const std::string& template_id, const std::string& error) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare("UPDATE jobs SET status = 'FAILED', error_message = ?, updated_ms = ? WHERE job_id = ?")
      .bind_all(error, now, job_id)
      .run();
  m_db.prepare(
          "UPDATE templates SET status = CASE WHEN status = 'READY' THEN status ELSE 'FAILED' END, "
          "updated_ms = ? WHERE template_id = ?")
      .bind_all(now, template_id)
      .run();
  tx.commit();
}

std::optional<TemplateRow> Catalog::find_template(const std::string& id) {
  auto s = m_db.prepare(fmt::format("SELECT {} FROM templates WHERE template_id = ?", k_tpl_cols));
  s.bind_all(id);
  if (!s.step()) return std::nullopt;
  return read_template(s);
}

std::vector<TemplateRow> Catalog::templates() {
  auto s = m_db.prepare(fmt::format("SELECT {} FROM templates ORDER BY created_ms, template_id", k_tpl_cols));
  std::vector<TemplateRow> out;
  while (s.step()) out.push_back(read_template(s));
  return out;
}

std::optional<JobRow> Catalog::job(const std::string& id) {
  auto s = m_db.prepare(fmt::format("SELECT {} FROM jobs WHERE job_id = ?", k_job_cols));
  s.bind_all(id);
  if (!s.step()) return std::nullopt;
  return read_job(s);
}

std::optional<JobRow> Catalog::latest_job(const std::string& template_id) {
  auto s = m_db.prepare(
      fmt::format("SELECT {} FROM jobs WHERE template_id = ? ORDER BY attempt_no DESC LIMIT 1", k_job_cols));
  s.bind_all(template_id);
  if (!s.step()) return std::nullopt;
  return read_job(s);
}

bool Catalog::delete_template(const std::string& id) {
  state::Transaction tx(m_db);
  m_db.prepare("DELETE FROM templates WHERE template_id = ?").bind_all(id).run();
  bool gone = m_db.changes() > 0;
  tx.commit();
  return gone;
}

std::optional<ArtifactRow> Catalog::find_artifact(const std::string& id) {
  auto s = m_db.prepare(fmt::format("SELECT {} FROM artifacts WHERE artifact_id = ?", k_art_cols));
  s.bind_all(id);
  if (!s.step()) return std::nullopt;
  return read_artifact(s);
}

std::vector<ArtifactRow> Catalog::artifacts() {
  auto s = m_db.prepare(fmt::format("SELECT {} FROM artifacts ORDER BY created_ms, artifact_id", k_art_cols));
  std::vector<ArtifactRow> out;
  while (s.step()) out.push_back(read_artifact(s));
  return out;
}

void Catalog::artifact_building(const std::string& id, const std::string& fingerprint, const std::string& image,
                                const std::string& digest, const std::string& store_dir) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "INSERT INTO artifacts (artifact_id, spec_fingerprint, source_image_ref, source_image_digest, store_dir, "
          "status, gc_deadline_ms, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, 'BUILDING', ?, ?, ?) "
          "ON CONFLICT (artifact_id) DO UPDATE SET status = 'BUILDING', last_error = '', store_dir = "
          "excluded.store_dir, "
          "gc_deadline_ms = excluded.gc_deadline_ms, updated_ms = excluded.updated_ms")
      .bind_all(id, fingerprint, image, digest, store_dir, now + k_gc_grace_ms, now, now)
      .run();
  tx.commit();
}

void Catalog::artifact_ready(const ArtifactRow& a, const std::string& config_json, const std::string& request_json,
                             int64_t writable_layer_size) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "UPDATE artifacts SET status = 'READY', ext4_path = ?, ext4_sha256 = ?, ext4_size_bytes = ?, files_path = ?, "
          "image_config_json = ?, generated_request_json = ?, writable_layer_size = ?, cube_egress_ca_baked = ?, "
          "cube_egress_ca_fingerprint = ?, cube_egress_ca_targets_written = ?, last_error = '', "
          "gc_deadline_ms = ?, updated_ms = ? WHERE artifact_id = ?")
      .bind_all(a.ext4_path, a.ext4_sha256, a.ext4_size, a.files_path, config_json, request_json, writable_layer_size,
                a.ca_fingerprint.empty() ? 0 : 1, a.ca_fingerprint, a.ca_targets, now + k_gc_grace_ms, now, a.id)
      .run();
  tx.commit();
}

void Catalog::artifact_failed(const std::string& id, const std::string& error) {
  state::Transaction tx(m_db);
  m_db.prepare("UPDATE artifacts SET status = 'FAILED', last_error = ?, updated_ms = ? WHERE artifact_id = ?")
      .bind_all(error, time::now_ms(), id)
      .run();
  tx.commit();
}

void Catalog::delete_artifact(const std::string& id) {
  state::Transaction tx(m_db);
  m_db.prepare("DELETE FROM artifacts WHERE artifact_id = ?").bind_all(id).run();
  tx.commit();
}

int64_t Catalog::artifact_references(const std::string& id) {
  auto s = m_db.prepare("SELECT COUNT(*) FROM templates WHERE artifact_id = ?");
  s.bind_all(id);
  s.step();
  return s.integer(0);
}

void Catalog::replica_pending(const std::string& template_id, const std::string& node, const std::string& target,
                              const std::string& artifact_id, const std::string& job_id) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "INSERT INTO template_replicas (template_id, node_id, target, status, artifact_id, last_job_id, created_ms, "
          "updated_ms) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?) ON CONFLICT (template_id, node_id) DO UPDATE SET "
          "target = excluded.target, status = 'PENDING', artifact_id = excluded.artifact_id, "
          "last_job_id = excluded.last_job_id, error_message = '', updated_ms = excluded.updated_ms")
      .bind_all(template_id, node, target, artifact_id, job_id, now, now)
      .run();
  tx.commit();
}

void Catalog::replica_result(const std::string& template_id, const std::string& node, bool ok,
                             const std::string& error) {
  state::Transaction tx(m_db);
  int64_t now = time::now_ms();
  m_db.prepare(
          "UPDATE template_replicas SET status = ?, error_message = ?, cleanup_required = ?, updated_ms = ? "
          "WHERE template_id = ? AND node_id = ?")
      .bind_all(ok ? "READY" : "FAILED", error, ok ? 0 : 1, now, template_id, node)
      .run();
  if (ok) bind_replica(template_id, node, now);
  tx.commit();
}

// A replica that became READY is bound to its node's versions as cube-versions last recorded them,
// under the template's policy, inside the transaction that made it READY: an ingest that changes
// the node's versions either comes before (and is bound) or after (and rescans this replica).
void Catalog::bind_replica(const std::string& template_id, const std::string& node, int64_t now) {
  compat::Versions bound;
  bool healthy = false;
  m_cluster.read([&](cluster::Tx& tx) {
    bound = compat::recorded_versions(tx, node);
    healthy = compat::node_healthy(tx, node, now, m_heartbeat_timeout_ms);
  });
  compat::Policy policy = compat::template_policy(m_db, template_id);
  std::optional<compat::Versions> current;
  if (healthy) current = bound;
  compat::Status status = compat::rescan(compat::Status::unknown, bound, current, policy);
  m_db.prepare(
          "UPDATE template_replicas SET guest_image_version = ?, agent_version = ?, kernel_version = ?, "
          "compat_policy = ?, compat_status = ?, compat_checked_ms = ? WHERE template_id = ? AND node_id = ?")
      .bind_all(bound.guest_image, bound.agent, bound.kernel, compat::policy_name(policy), compat::status_name(status),
                now, template_id, node)
      .run();
}

std::vector<ReplicaRow> Catalog::replicas(const std::string& template_id) {
  auto s = m_db.prepare(
      "SELECT template_id, node_id, target, status, artifact_id, last_job_id, error_message, updated_ms "
      "FROM template_replicas WHERE template_id = ? ORDER BY node_id");
  s.bind_all(template_id);
  std::vector<ReplicaRow> out;
  while (s.step())
    out.push_back({std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3)),
                   std::string(s.text(4)), std::string(s.text(5)), std::string(s.text(6)), s.integer(7)});
  return out;
}

}  // namespace cube::rootfs

namespace cube::rootfs {

std::vector<ReplicaRow> Catalog::replicas_to_clean(const std::string& template_id) {
  auto s = m_db.prepare(
      "SELECT template_id, node_id, target, status, artifact_id, last_job_id, error_message, updated_ms "
      "FROM template_replicas WHERE cleanup_required = 1 AND (?1 = '' OR template_id = ?1) "
      "ORDER BY template_id, node_id");
  s.bind(1, template_id);
  std::vector<ReplicaRow> out;
  while (s.step())
    out.push_back({std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3)),
                   std::string(s.text(4)), std::string(s.text(5)), std::string(s.text(6)), s.integer(7)});
  return out;
}

bool Catalog::copy_in_use(const ReplicaRow& r) {
  auto s = m_db.prepare(
      "SELECT 1 FROM template_replicas WHERE node_id = ?1 AND target = ?2 AND artifact_id = ?3 AND status = 'READY' "
      "LIMIT 1");
  s.bind_all(r.node, r.target, r.artifact_id);
  return s.step();
}

void Catalog::replica_cleaned(const std::string& template_id, const std::string& node) {
  state::Transaction tx(m_db);
  m_db.prepare(
          "UPDATE template_replicas SET cleanup_required = 0, updated_ms = ? WHERE template_id = ? AND node_id = ?")
      .bind_all(time::now_ms(), template_id, node)
      .run();
  tx.commit();
}

}  // namespace cube::rootfs
