-- cube-egress-rules: each sandbox's egress policy, and the secrets its rules inject, kept apart so
-- that reading a policy never reads a secret (man/cube-state.5.scd documents the columns).
CREATE TABLE egress_rules (
  sandbox_id TEXT    PRIMARY KEY,
  policy     TEXT    NOT NULL,  -- the policy JSON (camelCase); each inject has "secretRef", no "secret"
  rules      INTEGER NOT NULL,  -- number of L7 rules: > 0 means the sandbox's TCP 80/443 goes to the proxy
  revision   INTEGER NOT NULL,  -- 1 when first set, +1 at every change
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);

-- The secret of each inject, by rule name and position in the rule's inject list.
CREATE TABLE egress_secrets (
  sandbox_id TEXT    NOT NULL REFERENCES egress_rules (sandbox_id) ON DELETE CASCADE,
  rule       TEXT    NOT NULL,
  position   INTEGER NOT NULL,
  secret     TEXT    NOT NULL,
  secret_ref TEXT    NOT NULL,  -- "fp-" + 8 hex of the secret's SHA-256
  PRIMARY KEY (sandbox_id, rule, position)
) WITHOUT ROWID;
