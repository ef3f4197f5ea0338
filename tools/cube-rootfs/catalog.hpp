// cube::rootfs catalog — the rows cube-rootfs owns in the state file: templates, artifacts, jobs
// and template replicas (migration 0003). Every write is its own BEGIN IMMEDIATE transaction, so a
// process killed at any point leaves rows that describe the last completed step.
#pragma once

#include "cluster_reader.hpp"
#include "health.hpp"
#include "state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::rootfs {

// Job phases in order (doc/cube-rootfs.md, "Jobs and phases"); a redo resumes at one of them.
enum class Phase { pulling, unpacking, building_ext4, distributing, ready };
std::string_view phase_name(Phase p);
Phase parse_phase(std::string_view name);

struct TemplateRow {
  std::string id, status, artifact_id, image, instance_type, network_type, request_json, last_job_id;
  int64_t created_ms = 0, updated_ms = 0;
};

struct ArtifactRow {
  std::string id, fingerprint, image, digest, store_dir, ext4_path, ext4_sha256, files_path, status, last_error;
  std::string ca_fingerprint;
  int64_t ext4_size = 0, gc_deadline_ms = 0, ca_targets = 0, created_ms = 0;
};

struct JobRow {
  std::string id, template_id, operation, redo_mode, resume_phase, artifact_id, fingerprint, digest, status, phase,
      error, retry_of, runner_start;
  int64_t attempt = 0, progress = 0, expected = 0, ready = 0, failed = 0, runner_pid = 0, created_ms = 0,
          updated_ms = 0;
};

struct ReplicaRow {
  std::string template_id, node, target, status, artifact_id, last_job_id, error;
  int64_t updated_ms = 0;
};

class Catalog {
 public:
  // `heartbeat_timeout_ms`: how old a node's heartbeat may be for it to count as healthy when a
  // replica on it is bound to its versions ([rootfs] heartbeat_timeout).
  // `cluster_url`: where the nodes, heartbeats and versions are (cluster_reader.hpp); "" for the
  // state file.
  explicit Catalog(state::Db& db, int64_t heartbeat_timeout_ms = health::k_default_timeout_ms,
                   std::string cluster_url = "")
      : m_db(db), m_heartbeat_timeout_ms(heartbeat_timeout_ms), m_cluster(db, std::move(cluster_url)) {}

  void create_template(const std::string& id, const std::string& image, const std::string& instance_type,
                       const std::string& network_type, const std::string& request_json);
  // A new job for the template (attempt = last + 1), RUNNING in `phase`, owned by this process.
  JobRow start_job(const std::string& template_id, const std::string& operation, Phase phase,
                   const std::string& retry_of = {}, const std::string& redo_mode = {},
                   const std::string& scope_json = "[]");
  void job_phase(const std::string& job_id, Phase phase, int progress);
  void job_progress(const std::string& job_id, int progress);
  void job_source(const JobRow& job, const std::string& digest, const std::string& fingerprint,
                  const std::string& artifact_id);
  void job_nodes(const std::string& job_id, int64_t expected, int64_t ready, int64_t failed);
  void job_done(const std::string& job_id, const std::string& template_id);
  void job_failed(const std::string& job_id, const std::string& template_id, const std::string& error);

  std::optional<TemplateRow> find_template(const std::string& id);
  std::vector<TemplateRow> templates();
  std::optional<JobRow> job(const std::string& id);
  std::optional<JobRow> latest_job(const std::string& template_id);
  bool delete_template(const std::string& id);

  std::optional<ArtifactRow> find_artifact(const std::string& id);
  std::vector<ArtifactRow> artifacts();
  // Inserts the artifact as BUILDING (or turns an existing FAILED/PENDING row back to BUILDING).
  void artifact_building(const std::string& id, const std::string& fingerprint, const std::string& image,
                         const std::string& digest, const std::string& store_dir);
  void artifact_ready(const ArtifactRow& a, const std::string& config_json, const std::string& request_json,
                      int64_t writable_layer_size);
  void artifact_failed(const std::string& id, const std::string& error);
  void delete_artifact(const std::string& id);
  int64_t artifact_references(const std::string& id);

  void replica_pending(const std::string& template_id, const std::string& node, const std::string& target,
                       const std::string& artifact_id, const std::string& job_id);
  // READY (bound to the node's versions, doc/cube-versions.md "Template replica compatibility") or
  // FAILED with cleanup_required.
  void replica_result(const std::string& template_id, const std::string& node, bool ok, const std::string& error);
  std::vector<ReplicaRow> replicas(const std::string& template_id);
  // Replicas whose failed copy may have left parts on their node (cleanup_required), of one
  // template or ("") of all.
  std::vector<ReplicaRow> replicas_to_clean(const std::string& template_id);
  // Whether another READY replica on the node uses the same copy (same target and artifact).
  bool copy_in_use(const ReplicaRow& r);
  void replica_cleaned(const std::string& template_id, const std::string& node);

 private:
  void bind_replica(const std::string& template_id, const std::string& node, int64_t now);

  state::Db& m_db;
  int64_t m_heartbeat_timeout_ms;
  ClusterReader m_cluster;
};

// This process's start time from /proc (field 22), to tell a live runner from a reused PID.
std::string process_start(int pid);
bool runner_alive(const JobRow& j);

}  // namespace cube::rootfs
