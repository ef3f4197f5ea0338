-- cube-rootfs: templates, rootfs artifacts, build jobs and template replicas (cube-rootfs(1),
-- cube-state(5)).
-- Artifacts are shared by templates with the same spec fingerprint (dedup); each is a directory
-- <store>/<artifact_id>/ holding <artifact_id>.ext4, .files.jsonl and manifest.json.
CREATE TABLE artifacts (
  artifact_id                    TEXT    PRIMARY KEY,          -- rfs- + 24 hex of the fingerprint
  spec_fingerprint               TEXT    NOT NULL UNIQUE,
  source_image_ref               TEXT    NOT NULL DEFAULT '',
  source_image_digest            TEXT    NOT NULL DEFAULT '',
  store_dir                      TEXT    NOT NULL DEFAULT '',  -- the managed root it lives under
  ext4_path                      TEXT    NOT NULL DEFAULT '',
  ext4_sha256                    TEXT    NOT NULL DEFAULT '',
  ext4_size_bytes                INTEGER NOT NULL DEFAULT 0,
  files_path                     TEXT    NOT NULL DEFAULT '',
  image_config_json              TEXT    NOT NULL DEFAULT '',
  generated_request_json         TEXT    NOT NULL DEFAULT '',
  writable_layer_size            INTEGER NOT NULL DEFAULT 0,
  cube_egress_ca_baked           INTEGER NOT NULL DEFAULT 0,
  cube_egress_ca_fingerprint     TEXT    NOT NULL DEFAULT '',
  cube_egress_ca_targets_written INTEGER NOT NULL DEFAULT 0,
  status                         TEXT    NOT NULL DEFAULT 'PENDING',  -- PENDING/BUILDING/READY/FAILED
  last_error                     TEXT    NOT NULL DEFAULT '',
  gc_deadline_ms                 INTEGER NOT NULL DEFAULT 0,
  created_ms                     INTEGER NOT NULL DEFAULT 0,
  updated_ms                     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE templates (
  template_id      TEXT    PRIMARY KEY,                -- tpl- + 24 hex, always generated
  status           TEXT    NOT NULL DEFAULT 'PENDING', -- PENDING/BUILDING/READY/FAILED
  artifact_id      TEXT    NOT NULL DEFAULT '',
  source_image_ref TEXT    NOT NULL,
  instance_type    TEXT    NOT NULL DEFAULT 'cubebox',
  network_type     TEXT    NOT NULL DEFAULT 'tap',
  request_json     TEXT    NOT NULL,                   -- the full request, registry password stripped
  last_job_id      TEXT    NOT NULL DEFAULT '',
  created_ms       INTEGER NOT NULL DEFAULT 0,
  updated_ms       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX templates_by_artifact ON templates (artifact_id);

CREATE TABLE jobs (
  job_id              TEXT    PRIMARY KEY,             -- job- + 24 hex
  template_id         TEXT    NOT NULL REFERENCES templates (template_id) ON DELETE CASCADE,
  attempt_no          INTEGER NOT NULL,
  retry_of_job_id     TEXT    NOT NULL DEFAULT '',
  operation           TEXT    NOT NULL,                -- CREATE/REDO/DISTRIBUTE
  redo_mode           TEXT    NOT NULL DEFAULT '',     -- FAILED_ONLY/ALL
  redo_scope_json     TEXT    NOT NULL DEFAULT '[]',
  resume_phase        TEXT    NOT NULL DEFAULT '',
  artifact_id         TEXT    NOT NULL DEFAULT '',
  spec_fingerprint    TEXT    NOT NULL DEFAULT '',
  source_image_digest TEXT    NOT NULL DEFAULT '',
  status              TEXT    NOT NULL DEFAULT 'PENDING', -- PENDING/RUNNING/READY/FAILED
  phase               TEXT    NOT NULL DEFAULT 'PULLING', -- PULLING/UNPACKING/BUILDING_EXT4/DISTRIBUTING/READY
  progress            INTEGER NOT NULL DEFAULT 0,
  error_message       TEXT    NOT NULL DEFAULT '',
  expected_node_count INTEGER NOT NULL DEFAULT 0,
  ready_node_count    INTEGER NOT NULL DEFAULT 0,
  failed_node_count   INTEGER NOT NULL DEFAULT 0,
  runner_pid          INTEGER NOT NULL DEFAULT 0,      -- a RUNNING job whose runner is gone was killed
  runner_start        TEXT    NOT NULL DEFAULT '',     -- the runner's /proc start time, against PID reuse
  created_ms          INTEGER NOT NULL DEFAULT 0,
  updated_ms          INTEGER NOT NULL DEFAULT 0,
  UNIQUE (template_id, attempt_no)
);

CREATE TABLE template_replicas (
  template_id         TEXT    NOT NULL REFERENCES templates (template_id) ON DELETE CASCADE,
  node_id             TEXT    NOT NULL,
  target              TEXT    NOT NULL DEFAULT '',     -- the node's store directory or --via destination
  status              TEXT    NOT NULL DEFAULT 'PENDING', -- PENDING/READY/FAILED
  artifact_id         TEXT    NOT NULL DEFAULT '',
  last_job_id         TEXT    NOT NULL DEFAULT '',
  error_message       TEXT    NOT NULL DEFAULT '',
  cleanup_required    INTEGER NOT NULL DEFAULT 0,
  -- Compatibility columns of upstream migration 0006; cube-versions fills them.
  guest_image_version TEXT    NOT NULL DEFAULT '',
  agent_version       TEXT    NOT NULL DEFAULT '',
  kernel_version      TEXT    NOT NULL DEFAULT '',
  compat_status       TEXT    NOT NULL DEFAULT 'UNKNOWN', -- OK/STALE/UNKNOWN
  compat_policy       TEXT    NOT NULL DEFAULT 'STRICT',  -- STRICT/GUEST_ONLY
  compat_checked_unix INTEGER NOT NULL DEFAULT 0,
  created_ms          INTEGER NOT NULL DEFAULT 0,
  updated_ms          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (template_id, node_id)
);
CREATE INDEX idx_node_compat ON template_replicas (node_id, compat_status);
