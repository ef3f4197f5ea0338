-- cube-sched: the disk usage a heartbeat reports (the disk filter) and when a placed sandbox
-- finished starting (the create-rate filter counts the ones that have not) (cube-sched(1)).
ALTER TABLE nodes ADD COLUMN disk_used_percent REAL NOT NULL DEFAULT 0;  -- of the node's store
ALTER TABLE allocations ADD COLUMN started_ms INTEGER NOT NULL DEFAULT 0;  -- 0: still being created
