# A private PostgreSQL 15 server for a bats file (tests/pg-server), for tests that run the cluster
# store's tools against both backends. In the file:
#   load pg-helpers
#   setup_file()    { pg_start; }     # once per file: starting a server takes about 2 s
#   teardown_file() { pg_stop; }
#   setup()         { cube_setup; pg_use_schema; }   # a fresh schema per test; sets CUBE_CLUSTER_URL
# To run a whole file on both backends, link NAME-pg.bats to it and use pg_suite_* (at the end).
# A test that needs the server calls require_pg, which skips with the reason when it cannot run.
# bats runs teardown_file even when setup_file or a test failed, so no server outlives the file.

pg_start() {
  local out rc=0
  out=$("$CUBE_ROOT/tests/pg-server" start 2>&1) || rc=$?
  case $rc in
    0) export CUBE_PG_DIR="$out" ;;
    77) export CUBE_PG_SKIP="$out" ;;
    *) echo "$out" >&2; return 1 ;;
  esac
}

pg_stop() {
  [ -n "${CUBE_PG_DIR:-}" ] && "$CUBE_ROOT/tests/pg-server" stop "$CUBE_PG_DIR"
  unset CUBE_PG_DIR
}

require_pg() {
  [ -n "${CUBE_PG_DIR:-}" ] || skip "${CUBE_PG_SKIP:-needs the test PostgreSQL server (pg_start)}"
}

# The URL of the test server's database, as user postgres.
pg_url() {
  echo "postgresql://postgres@/postgres?host=$CUBE_PG_DIR"
}

# cluster_sql SQL: runs SQL where the cluster tables are, PostgreSQL when $CUBE_CLUSTER_URL is set,
# else the state file, and prints the rows alike: columns joined by '|', no header. For a test that
# reads or ages rows behind the tool's back on either backend.
cluster_sql() {
  if [ -n "${CUBE_CLUSTER_URL:-}" ]; then
    psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 "$CUBE_CLUSTER_URL" -c "$1"
  else
    sqlite3 "$CUBE_STATE" "$1"
  fi
}

# A schema of the test's own on the file's server, and CUBE_CLUSTER_URL pointing at it.
pg_use_schema() {
  [ -n "${CUBE_PG_DIR:-}" ] || return 0
  local schema="t_${BATS_SUITE_TEST_NUMBER:-0}_$$"
  psql -q -X -v ON_ERROR_STOP=1 "$(pg_url)" -c "CREATE SCHEMA $schema" >/dev/null
  export CUBE_CLUSTER_URL="$(pg_url)&options=-csearch_path%3D$schema"
}

# A suite that runs on both backends is one file and a link to it named *-pg.bats (cube-sched.bats
# and tests/cube-sched-pg.bats): under the link's name these start the file's server and give each
# test a fresh schema; under the file's own name they do nothing.
on_pg() { [[ "$BATS_TEST_FILENAME" == *-pg.bats ]]; }
pg_suite_start() { if on_pg; then pg_start; fi; }
pg_suite_stop() { if on_pg; then pg_stop; fi; }
pg_suite_schema() {
  if on_pg; then
    require_pg
    pg_use_schema
  fi
}
