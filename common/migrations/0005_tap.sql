-- cube-tap: the node's sandbox network (one row), its TAP devices and their host port mappings.
-- Other tools may read taps.sandbox_id, taps.name, taps.ifindex, taps.address and taps.state (the
-- sandbox's host-side address and TAP), and port_mappings (which host port leads to which sandbox).

-- The node set-up `cube-tap setup` recorded; at most one row. Addresses are dotted text.
CREATE TABLE tap_node (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  uplink             TEXT    NOT NULL,
  cidr               TEXT    NOT NULL,  -- the sandbox address pool, a.b.c.d/N
  gateway            TEXT    NOT NULL,  -- CIDR index 1, on lo
  mtu                INTEGER NOT NULL,
  ipam_cursor        INTEGER NOT NULL DEFAULT 1,      -- next-fit: the last index handed out
  port_cursor        INTEGER NOT NULL DEFAULT 19999,  -- next-fit: the last host port handed out
  saved_port_range   TEXT    NOT NULL DEFAULT '',     -- ip_local_port_range before setup changed it
  set_port_range     TEXT    NOT NULL DEFAULT '',     -- what setup wrote there ('' = left alone)
  saved_forwarding   TEXT    NOT NULL DEFAULT '',     -- ip_forward before setup ('' = already on)
  setup_ms           INTEGER NOT NULL
);

-- One row per TAP cube-tap owns. The address index is the IPAM bitmap: an index is used while a
-- row holds it (pooled and quarantined TAPs keep theirs).
CREATE TABLE taps (
  name        TEXT    PRIMARY KEY,       -- 'z' + the address in 8 hex digits
  address     TEXT    NOT NULL UNIQUE,   -- the sandbox's host-side address, dotted
  addr_index  INTEGER NOT NULL UNIQUE,   -- its index in the CIDR
  ifindex     INTEGER NOT NULL DEFAULT 0,
  sandbox_id  TEXT    UNIQUE,            -- NULL while pooled or quarantined
  state       TEXT    NOT NULL CHECK (state IN ('creating', 'in_use', 'releasing', 'pooled', 'quarantined')),
  owner       TEXT    NOT NULL DEFAULT '',  -- 'pid:starttime' of the process mid-change, '' when at rest
  destroy     INTEGER NOT NULL DEFAULT 0,   -- a release in progress destroys rather than pools
  failures    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT    NOT NULL DEFAULT '',
  last_stage  TEXT    NOT NULL DEFAULT '',
  created_ms  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
);
CREATE INDEX taps_by_state ON taps (state, updated_ms);

CREATE TABLE port_mappings (
  host_port       INTEGER PRIMARY KEY,
  tap_name        TEXT    NOT NULL REFERENCES taps (name) ON DELETE CASCADE,
  sandbox_id      TEXT    NOT NULL,
  container_port  INTEGER NOT NULL,
  protocol        TEXT    NOT NULL DEFAULT 'tcp',
  created_ms      INTEGER NOT NULL,
  UNIQUE (sandbox_id, container_port)
);
CREATE INDEX port_mappings_by_tap ON port_mappings (tap_name);
