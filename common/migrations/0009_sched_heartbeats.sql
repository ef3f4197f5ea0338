-- cube-sched: heartbeats move out of nodes into a table of their own, the split the PostgreSQL
-- schema has (common/migrations/pg/0001_cluster.sql): one SQL text then serves both backends, and
-- on PostgreSQL a heartbeat never writes the rows a placement's serializable transaction reads.
-- Other tools read health as nodes.id with node_heartbeats.heartbeat_ms and .ready, through a LEFT
-- JOIN: a node without a row has never sent a heartbeat (heartbeat_ms 0, ready 0) (cube-state(5)).
CREATE TABLE node_heartbeats (
  node_id            TEXT    PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  heartbeat_ms       INTEGER NOT NULL DEFAULT 0,
  ready              INTEGER NOT NULL DEFAULT 0,
  cpu_util           REAL    NOT NULL DEFAULT 0,  -- percent
  mem_free_bytes     INTEGER NOT NULL DEFAULT 0,  -- real free memory
  disk_used_percent  REAL    NOT NULL DEFAULT 0   -- of the node's store
) WITHOUT ROWID;

-- Every heartbeat recorded so far comes along; a node never heard from gets no row.
INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent)
  SELECT id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent FROM nodes WHERE heartbeat_ms <> 0;

ALTER TABLE nodes DROP COLUMN heartbeat_ms;
ALTER TABLE nodes DROP COLUMN ready;
ALTER TABLE nodes DROP COLUMN cpu_util;
ALTER TABLE nodes DROP COLUMN mem_free_bytes;
ALTER TABLE nodes DROP COLUMN disk_used_percent;
