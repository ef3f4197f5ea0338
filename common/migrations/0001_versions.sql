-- cube-versions: what each node reports of its components (upstream's migration 0004;
-- cube-state(5)).
-- No soft delete: components a node stops reporting are hard-deleted.
CREATE TABLE node_component_version (
  id          INTEGER PRIMARY KEY,
  node_id     TEXT    NOT NULL,
  component   TEXT    NOT NULL,
  version     TEXT    NOT NULL DEFAULT '',
  "commit"    TEXT    NOT NULL DEFAULT '',
  build_time  TEXT    NOT NULL DEFAULT '',
  source      TEXT    NOT NULL DEFAULT '',
  reported_ms INTEGER NOT NULL DEFAULT 0,
  created_ms  INTEGER NOT NULL DEFAULT 0,
  updated_ms  INTEGER NOT NULL DEFAULT 0,
  UNIQUE (node_id, component)
);
-- The matrix reads rows grouped by component and version; this index serves that order.
CREATE INDEX node_component_version_by_component ON node_component_version (component, version, node_id);

-- The order-independent hash of each node's last report, so an unchanged report skips the write.
CREATE TABLE node_version_report (
  node_id     TEXT    PRIMARY KEY,
  report_hash TEXT    NOT NULL,
  reported_ms INTEGER NOT NULL
);
