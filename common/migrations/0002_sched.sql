-- cube-sched: the node registry, node labels and recorded allocations (cube-sched(1),
-- cube-state(5)).
-- Other tools may read nodes.id, nodes.heartbeat_ms (Unix ms of the last heartbeat, 0 = never) and
-- nodes.ready (the node's last reported readiness) to show health with common/health.hpp.
CREATE TABLE nodes (
  id              TEXT    PRIMARY KEY,
  heartbeat_ms    INTEGER NOT NULL DEFAULT 0,
  ready           INTEGER NOT NULL DEFAULT 0,
  address         TEXT    NOT NULL DEFAULT '',
  instance_type   TEXT    NOT NULL DEFAULT '',
  zone            TEXT    NOT NULL DEFAULT '',
  cluster_id      TEXT    NOT NULL DEFAULT '',
  cpu_type        TEXT    NOT NULL DEFAULT '',
  cpu_m           INTEGER NOT NULL DEFAULT 0,  -- CPU quota, millicores
  mem_bytes       INTEGER NOT NULL DEFAULT 0,  -- memory quota, bytes
  max_sandboxes   INTEGER NOT NULL DEFAULT 0,  -- 0: [sched] max_sandboxes
  cordoned        INTEGER NOT NULL DEFAULT 0,
  cpu_util        REAL    NOT NULL DEFAULT 0,  -- percent, from the last heartbeat
  mem_free_bytes  INTEGER NOT NULL DEFAULT 0,  -- real free memory, from the last heartbeat
  registered_ms   INTEGER NOT NULL DEFAULT 0
);

-- Labels given at registration. The six canonical labels are not stored here: they are derived
-- from the node's columns and always win.
CREATE TABLE node_labels (
  node_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (node_id, key)
) WITHOUT ROWID;

-- One row per placed sandbox: the primary key is what makes a sandbox recorded at most once.
CREATE TABLE allocations (
  sandbox_id TEXT    PRIMARY KEY,
  node_id    TEXT    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  cpu_m      INTEGER NOT NULL,
  mem_bytes  INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
-- Placement sums a node's allocations inside its transaction; this index keeps that cheap.
CREATE INDEX allocations_by_node ON allocations (node_id);
