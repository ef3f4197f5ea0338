-- cube-versions: each template's compatibility policy (STRICT, GUEST_ONLY, STRICT_KERNEL); a
-- template without a row is STRICT. cube-rootfs reads it when it binds a new replica
-- (cube-state(5), cube-versions(1)).
CREATE TABLE template_compat (
  template_id TEXT    PRIMARY KEY REFERENCES templates (template_id) ON DELETE CASCADE,
  policy      TEXT    NOT NULL DEFAULT 'STRICT',
  updated_ms  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- Times are Unix milliseconds in this file; upstream's column held seconds under a name that said so.
ALTER TABLE template_replicas RENAME COLUMN compat_checked_unix TO compat_checked_ms;
