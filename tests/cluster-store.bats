#!/usr/bin/env bats
# The cluster tables in PostgreSQL (cube-state(5), "TWO BACKENDS"), through the real tools and a
# PostgreSQL 15 server of this file's own: two masters with their own state files placing at once
# on one schema, the server killed while placements and ingests run, and credentials from
# ~/.pgpass, $PGPASSFILE or the URL with the password never printed. The single-master races
# (40 placers, 32 ingests) are in cube-sched.bats and cube-versions.bats, which run on PostgreSQL
# too through their -pg.bats links.
load helpers
load pg-helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }
setup() {
  cube_setup
  require_pg
  pg_use_schema
  # A slow run must not see its nodes' heartbeats expire.
  printf '[sched]\nheartbeat_timeout = "24h"\n' >"$CUBE_CONFIG"
  LOOP_PIDS=()
}
teardown() {
  stop_loops
  # A test that failed between crash and restart leaves the server down for the next one.
  if [ -n "${CUBE_PG_DIR:-}" ] && ! psql -X -q "$(pg_url)" -c 'SELECT 1' >/dev/null 2>&1; then
    "$CUBE_ROOT/tests/pg-server" restart "$CUBE_PG_DIR" 7>&- || true
  fi
  cube_teardown
}

# node ID CPU MEM [register options…]: registered and heartbeating with plenty of real memory.
node() {
  local id=$1 cpu=$2 mem=$3
  shift 3
  cube-sched node register "$id" --cpu "$cpu" --mem "$mem" "$@" >/dev/null
  cube-sched heartbeat "$id" --cpu-util 10 --mem-free 1T
}

# Nodes holding more than their capacity: more sandboxes than their limit (0: the default
# max_sandboxes, 3000), more CPU or memory than their quota times the default ratios (3 and 2).
over_capacity() {
  cluster_sql "SELECT n.id FROM nodes n LEFT JOIN allocations a ON a.node_id = n.id
    GROUP BY n.id, n.max_sandboxes, n.cpu_m, n.mem_bytes
    HAVING COUNT(a.sandbox_id) > CASE WHEN n.max_sandboxes > 0 THEN n.max_sandboxes ELSE 3000 END
        OR COALESCE(SUM(a.cpu_m), 0) > n.cpu_m * 3 OR COALESCE(SUM(a.mem_bytes), 0) > n.mem_bytes * 2"
}

# Half-written version reports: a node whose node_version_report and node_component_version rows
# disagree. Ingest writes both in one transaction: the report's text is the node's rows, one
# sorted line per component (component, version, commit, build_time, source, tab-separated), its
# hash their SHA-256, and every row carries the report's reported_ms. A node with rows and no
# report, or a report and no rows, is half-written too.
partial_reports() {
  cluster_sql "WITH rows AS (
      SELECT node_id, MIN(reported_ms) AS first_ms, MAX(reported_ms) AS last_ms,
             string_agg(component || E'\t' || version || E'\t' || \"commit\" || E'\t' || build_time || E'\t'
                        || source || E'\n', '' ORDER BY component) AS text
        FROM node_component_version GROUP BY node_id)
    SELECT COALESCE(r.node_id, c.node_id) FROM node_version_report r FULL JOIN rows c ON c.node_id = r.node_id
     WHERE r.report IS DISTINCT FROM c.text
        OR r.report_hash IS DISTINCT FROM encode(sha256(convert_to(c.text, 'UTF8')), 'hex')
        OR c.first_ms IS DISTINCT FROM r.reported_ms OR c.last_ms IS DISTINCT FROM r.reported_ms"
}

stop_loops() {
  [ -n "${TMP:-}" ] && touch "$TMP/stop"
  local pid
  for pid in "${LOOP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  LOOP_PIDS=()
}

# count_lines PATTERN: lines of the loops' logs matching the extended regex PATTERN.
count_lines() { cat "$TMP"/log.* 2>/dev/null | grep -cE "$1" || true; }
at_least() { [ "$(count_lines "$1")" -ge "$2" ]; }

# check_lost_server_error TOOL FILE: FILE is the stderr of a command that failed because the server
# was gone: one line, TOOL's error naming the server's socket directory (in the socket's path, or
# in the URL's host=) and the reason libpq or the server gave. A server killed while it accepts
# a connection resets it (ECONNRESET), so "Connection reset by peer" is one of those reasons.
# Exit 1, not a crash, is the caller's to check.
check_lost_server_error() {
  local tool=$1 file=$2 text
  local what='(cannot connect to the cluster database|the connection was lost during)'
  local why='(No such file or directory|Connection refused|Connection reset by peer|server closed the connection unexpectedly|terminating connection|the database system is|could not receive data from server|could not send data to server|no connection to the server)'
  text=$(cat "$file")
  [ "$(wc -l <"$file")" -eq 1 ] || fail "$file: not one line: $text"
  [[ "$text" == "$tool: error: "* ]] || fail "$file: $text"
  [[ "$text" == *"$CUBE_PG_DIR"* ]] || fail "$file: the socket directory is not named: $text"
  [[ "$text" =~ $what ]] || fail "$file: $text"
  [[ "$text" =~ $why ]] || fail "$file: no reason from libpq or the server: $text"
}

# lost_in_commit FILE: the command went during COMMIT, so it may or may not have been committed.
lost_in_commit() { [ -f "$1" ] && grep -q "may or may not have been committed" "$1"; }

# release_lost_in_commit SB: one of the releases of SB went during COMMIT.
release_lost_in_commit() {
  local f
  for f in "$TMP/err.$1".release.*; do lost_in_commit "$f" && return 0; done
  return 1
}

# place_loop L: placer L places L-1, L-2, … until $TMP/stop, and releases its oldest sandbox
# whenever it holds more than two, so that the cluster stays near full and every round writes. A
# release that failed is tried again next round. Logs "place SB RC" and "release SB RC N" lines to
# $TMP/log.L (N numbers the loop's releases), each command's stdout and stderr to $TMP/out.SB,
# $TMP/err.SB and $TMP/err.SB.release.N.
place_loop() {
  local l=$1 i=0 n=0 rc sb held=()
  while [ ! -e "$TMP/stop" ]; do
    i=$((i + 1))
    sb=$l-$i
    rc=0
    cube-sched place --cpu 500m --mem 64M --sandbox "$sb" --commit -o json >"$TMP/out.$sb" 2>"$TMP/err.$sb" || rc=$?
    echo "place $sb $rc" >>"$TMP/log.$l"
    [ "$rc" != 0 ] || held+=("$sb")
    while [ "${#held[@]}" -gt 2 ]; do
      n=$((n + 1))
      rc=0
      cube-sched release "${held[0]}" >/dev/null 2>"$TMP/err.${held[0]}.release.$n" || rc=$?
      echo "release ${held[0]} $rc $n" >>"$TMP/log.$l"
      [ "$rc" = 1 ] && break
      held=("${held[@]:1}")
    done
  done
}

# report I: the I-th report of an ingest loop: components c1 … c(1 + I mod 4), each at version 1.I,
# so that every report changes every row, and adds or deletes some.
report() {
  local c
  for c in $(seq 1 $((1 + $1 % 4))); do printf '{"component":"c%d","version":"1.%d","source":"file"}\n' "$c" "$1"; done
}

# ingest_loop NODE: reports as NODE, a new report each round, until $TMP/stop. Logs "I RC" lines to
# $TMP/log.NODE and each round's stderr to $TMP/err.NODE.I.
ingest_loop() {
  local node=$1 i=0 rc
  while [ ! -e "$TMP/stop" ]; do
    i=$((i + 1))
    rc=0
    report "$i" | cube-versions ingest --node "$node" >/dev/null 2>"$TMP/err.$node.$i" || rc=$?
    echo "$i $rc" >>"$TMP/log.$node"
  done
}

@test "two masters with their own state files place 80 sandboxes at once on one schema: no node overfilled, each recorded once" {
  # Room for 21 sandboxes of 500m: n1 8 by its sandbox limit, n2 9 by CPU (1.5 cores × 3), n3 4 by
  # its limit (its CPU would take 6).
  node n1 4 64G --max-sandboxes 8
  node n2 1.5 64G
  node n3 1 64G --max-sandboxes 4
  # Master a finds the schema through $CUBE_CLUSTER_URL, master b through [state] cluster in a
  # config file of its own; each has its own state file, created beforehand on the SQLite backend,
  # so that a cluster row written to it would show.
  mkdir "$TMP/a" "$TMP/b"
  printf '[sched]\nheartbeat_timeout = "24h"\n[state]\ncluster = "%s"\n' "$CUBE_CLUSTER_URL" >"$TMP/b/cube.toml"
  for m in a b; do CUBE_CLUSTER_URL='' CUBE_STATE="$TMP/$m/state.db" cube-sched node list >/dev/null; done
  master() {
    local m=$1
    shift
    if [ "$m" = a ]; then
      CUBE_STATE="$TMP/a/state.db" cube-sched "$@"
    else
      CUBE_CLUSTER_URL='' CUBE_STATE="$TMP/b/state.db" CUBE_CONFIG="$TMP/b/cube.toml" cube-sched "$@"
    fi
  }
  # 40 placers per master, held at a gate (the exclusive lock on $TMP/gate) until all 80 exist.
  # both-1 … both-5 are placed by both masters.
  exec 9>"$TMP/gate"
  flock 9
  pids=()
  names=()
  for m in a b; do
    for i in $(seq 1 40); do
      sb=$m-$i
      [ "$i" -gt 5 ] || sb=both-$i
      (
        flock -s "$TMP/gate" true
        master "$m" place --cpu 500m --mem 64M --sandbox "$sb" --commit -o json
      ) >"$TMP/out.$m.$i" 2>"$TMP/err.$m.$i" 9>&- &
      pids+=($!)
      names+=("$m.$i")
    done
  done
  flock -u 9
  exec 9>&-
  : >"$TMP/placed"
  for k in "${!pids[@]}"; do
    rc=0
    wait "${pids[$k]}" || rc=$?
    f=${names[$k]}
    case $rc in
      0)
        [ ! -s "$TMP/err.$f" ] || fail "placer $f succeeded but said: $(cat "$TMP/err.$f")"
        jq -r '.sandbox + " " + .node' "$TMP/out.$f" >>"$TMP/placed"
        ;;
      4) grep -qE "^cube-sched: error: (no node fits the request|sandbox 'both-[1-5]' is already allocated)" \
        "$TMP/err.$f" || fail "placer $f: $(cat "$TMP/err.$f")" ;;
      *) fail "placer $f exited $rc: $(cat "$TMP/err.$f")" ;;
    esac
  done
  sort -o "$TMP/placed" "$TMP/placed"
  # Every sandbox placed once, and the cluster exactly full: a placer that found no room saw
  # every node full, and nodes only fill during the run.
  [ -z "$(cut -d' ' -f1 "$TMP/placed" | uniq -d)" ] || fail "placed twice: $(cut -d' ' -f1 "$TMP/placed" | uniq -d)"
  [ "$(wc -l <"$TMP/placed")" -eq 21 ] || fail "$(wc -l <"$TMP/placed") placed, not 21"
  # What the placers were told is what is stored, row for row, read by SQL and by either master.
  [ "$(cluster_sql "SELECT sandbox_id || ' ' || node_id FROM allocations ORDER BY 1")" = "$(cat "$TMP/placed")" ]
  for m in a b; do
    [ "$(master "$m" alloc list -o json | jq -r '.[] | .sandbox + " " + .node' | sort)" = "$(cat "$TMP/placed")" ]
  done
  [ -z "$(over_capacity)" ] || fail "over capacity: $(over_capacity)"
  [ "$(cluster_sql "SELECT node_id || ' ' || COUNT(*) FROM allocations GROUP BY node_id ORDER BY 1" | tr '\n' ,)" = "n1 8,n2 9,n3 4," ]
  run master b node list -o json
  assert_success
  [ "$(jq -r '[.[] | select(.cpu_allocated_m > .cpu_effective_m)] | length' <<<"$output")" -eq 0 ]
  [ "$(jq -r '[.[].sandboxes] | add' <<<"$output")" -eq 21 ]
  # Neither master's own state file got a cluster row.
  for m in a b; do
    [ "$(sqlite3 "$TMP/$m/state.db" "SELECT (SELECT COUNT(*) FROM nodes) + (SELECT COUNT(*) FROM node_heartbeats)
      + (SELECT COUNT(*) FROM node_labels) + (SELECT COUNT(*) FROM allocations)
      + (SELECT COUNT(*) FROM node_component_version) + (SELECT COUNT(*) FROM node_version_report)")" -eq 0 ]
    [ "$(CUBE_CLUSTER_URL='' CUBE_STATE="$TMP/$m/state.db" cube-sched alloc list -o json)" = "[]" ]
  done
}

@test "the server killed while placements run: exit 1 naming the socket, no partial rows, every success recorded, then work again" {
  # Room for 9 sandboxes, 3 a node; four placers holding up to three each keep it near full.
  for n in n1 n2 n3; do node "$n" 16 64G --max-sandboxes 3; done
  placed='^place [^ ]+ 0$' released='^release [^ ]+ 0 [0-9]+$' failed='^(place [^ ]+ 1|release [^ ]+ 1 [0-9]+)$'
  for l in p1 p2 p3 p4; do
    place_loop "$l" &
    LOOP_PIDS+=($!)
  done
  poll_until 120 at_least "$placed" 8
  "$CUBE_ROOT/tests/pg-server" crash "$CUBE_PG_DIR"
  # Commands run against the dead server, and fail.
  poll_until 120 at_least "$failed" 4
  "$CUBE_ROOT/tests/pg-server" restart "$CUBE_PG_DIR"
  # With no step of ours, placements and releases succeed again.
  poll_until 120 at_least "$placed" $(($(count_lines "$placed") + 8))
  poll_until 120 at_least "$released" $(($(count_lines "$released") + 4))
  stop_loops
  cat "$TMP"/log.* >"$TMP/log"

  # Each command exited 0, 1 for the lost server (said clearly), or 4 for a full cluster; a
  # release 3 only after one that went during COMMIT had freed it after all.
  while read -r verb sb rc n; do
    err=$TMP/err.$sb
    [ "$verb" = place ] || err=$TMP/err.$sb.release.$n
    case "$verb $rc" in
      "place 0" | "release 0") ;;
      "place 1" | "release 1") check_lost_server_error cube-sched "$err" ;;
      "place 4") grep -q "^cube-sched: error: no node fits the request" "$err" || fail "$sb: $(cat "$err")" ;;
      "release 3")
        release_lost_in_commit "$sb" || fail "$sb: release exited 3 without an earlier one lost in COMMIT: $(cat "$err")"
        ;;
      *) fail "$verb $sb exited $rc: $(cat "$err")" ;;
    esac
  done <"$TMP/log"
  [ "$(count_lines "$failed")" -ge 4 ]

  # No partial rows: every allocation on a node that exists, no node over its capacity.
  [ "$(cluster_sql "SELECT COUNT(*) FROM allocations a LEFT JOIN nodes n ON n.id = a.node_id WHERE n.id IS NULL")" -eq 0 ]
  [ -z "$(over_capacity)" ] || fail "over capacity: $(over_capacity)"
  # Every success recorded: a sandbox placed with exit 0 and not released with exit 0 or 3 is
  # stored, on the node it was given; any other stored sandbox is one whose place or release went
  # during COMMIT, which may or may not have been committed.
  cluster_sql "SELECT sandbox_id || ' ' || node_id FROM allocations ORDER BY 1" >"$TMP/stored"
  awk '$1 == "place" && $3 == 0 { held[$2] = 1 } $1 == "release" && ($3 == 0 || $3 == 3) { delete held[$2] }
       END { for (sb in held) print sb }' "$TMP/log" | sort >"$TMP/held"
  while read -r sb; do
    want="$sb $(jq -r .node "$TMP/out.$sb")"
    grep -qxF "$want" "$TMP/stored" && continue
    release_lost_in_commit "$sb" || fail "placed and not released, but not stored as '$want'"
  done <"$TMP/held"
  while read -r sb node; do
    grep -qxF "$sb" "$TMP/held" && continue
    lost_in_commit "$TMP/err.$sb" && continue
    release_lost_in_commit "$sb" || fail "$sb is stored on $node, but its placement failed or it was released"
  done <"$TMP/stored"

  # And a new command works.
  cube-sched release "$(head -n1 "$TMP/stored" | cut -d' ' -f1)"
  run cube-sched place --cpu 500m --mem 64M --sandbox after --commit -o json
  assert_success
  [ "$(cluster_sql "SELECT COUNT(*) FROM allocations WHERE sandbox_id = 'after'")" -eq 1 ]
}

@test "a place --batch --commit outlives a server restart: its lines fail with exit 1 meanwhile, then it places again" {
  node n1 16 64G
  batch_start cube-sched place --batch --commit
  batch_ask '{"cpu":"500m","mem":"64M","sandbox":"before"}'
  [ "$(jq -r .node <<<"$BATCH_REPLY")" = n1 ]
  "$CUBE_ROOT/tests/pg-server" crash "$CUBE_PG_DIR"
  batch_ask '{"cpu":"500m","mem":"64M","sandbox":"during"}'
  [ "$(jq -r .exit <<<"$BATCH_REPLY")" = 1 ] || fail "$BATCH_REPLY"
  [[ "$(jq -r .error <<<"$BATCH_REPLY")" == *"$CUBE_PG_DIR"* ]] || fail "the server is not named: $BATCH_REPLY"
  "$CUBE_ROOT/tests/pg-server" restart "$CUBE_PG_DIR" 7>&-  # the server must not hold the batch's input
  # The same process, with no step of ours: its lost connections are opened again.
  local i=0
  while :; do
    i=$((i + 1))
    batch_ask "{\"cpu\":\"500m\",\"mem\":\"64M\",\"sandbox\":\"after-$i\"}"
    [ "$(jq -r .node <<<"$BATCH_REPLY")" = n1 ] && break
    [ "$(jq -r .exit <<<"$BATCH_REPLY")" = 1 ] || fail "$BATCH_REPLY"
    [ "$i" -lt 100 ] || fail "the batch never placed again: $BATCH_REPLY"
    sleep 0.2
  done
  # Every line it answered is what is stored: the failed ones left nothing.
  [ "$(cluster_sql "SELECT string_agg(sandbox_id, ',' ORDER BY sandbox_id) FROM allocations")" = "after-$i,before" ]
  batch_stop
  [ "$BATCH_STATUS" = 1 ]
  [ "$(wc -l <"$TMP/batch.out")" -eq $((i + 2)) ]
}

@test "the server killed while ingests run: exit 1 naming the socket, no half-written report, the last success recorded" {
  for node in v1 v2 v3; do
    ingest_loop "$node" &
    LOOP_PIDS+=($!)
  done
  poll_until 120 at_least '^[0-9]+ 0$' 9
  "$CUBE_ROOT/tests/pg-server" crash "$CUBE_PG_DIR"
  poll_until 120 at_least '^[0-9]+ 1$' 3
  "$CUBE_ROOT/tests/pg-server" restart "$CUBE_PG_DIR"
  poll_until 120 at_least '^[0-9]+ 0$' $(($(count_lines '^[0-9]+ 0$') + 6))
  stop_loops

  for node in v1 v2 v3; do
    while read -r i rc; do
      case $rc in
        0) ;;
        1) check_lost_server_error cube-versions "$TMP/err.$node.$i" ;;
        *) fail "$node's report $i exited $rc: $(cat "$TMP/err.$node.$i")" ;;
      esac
    done <"$TMP/log.$node"
  done
  [ "$(count_lines '^[0-9]+ 1$')" -ge 3 ]

  [ -z "$(partial_reports)" ] || fail "half-written reports of: $(partial_reports)"
  # Each node's stored report is its last that exited 0, or a later one that went during COMMIT.
  for node in v1 v2 v3; do
    last_ok=$(awk '$2 == 0 { i = $1 } END { print i }' "$TMP/log.$node")
    stored=$(cluster_sql "SELECT version FROM node_component_version WHERE node_id = '$node' AND component = 'c1'")
    stored=${stored#1.}
    [ -n "$last_ok" ] && [ -n "$stored" ] || fail "$node: last success '$last_ok', stored '$stored'"
    [ "$stored" -eq "$last_ok" ] || { [ "$stored" -gt "$last_ok" ] && lost_in_commit "$TMP/err.$node.$stored"; } ||
      fail "$node: report $stored is stored, but its last success was report $last_ok"
    [ "$(cluster_sql "SELECT COUNT(*) FROM node_component_version WHERE node_id = '$node'")" -eq $((1 + stored % 4)) ]
  done

  # And a new command works.
  report 7 | cube-versions ingest --node v4
  run cube-versions matrix -o json
  assert_success
  [ -z "$(partial_reports)" ]
}

@test "credentials from ~/.pgpass, \$PGPASSFILE or the URL: a wrong or missing one is exit 1 naming the socket, a password is never printed" {
  # A role the server asks for a password (scram-sha-256), with a schema of its own. The password
  # has characters a URL must percent-encode, so both its forms are looked for in the output.
  role=cube_pw_$$
  pw='Pw:s3cr@t/%x'
  enc='Pw%3As3cr%40t%2F%25x'
  "$CUBE_ROOT/tests/pg-server" password "$CUBE_PG_DIR" "$role" "$pw"
  psql -X -q -v ON_ERROR_STOP=1 "$(pg_url)" -c "CREATE SCHEMA ${role}_s AUTHORIZATION $role" >/dev/null
  unset CUBE_CLUSTER_URL PGPASSFILE PGPASSWORD
  export HOME="$TMP/home"
  mkdir "$HOME"
  at="@/postgres?host=$CUBE_PG_DIR&options=-csearch_path%3D${role}_s"
  url="postgresql://$role$at"
  socket="socket $CUBE_PG_DIR/.s.PGSQL.5432"
  # no_secret: neither form of the password, nor its middle, in the last run's stdout and stderr.
  no_secret() {
    local text="$output${stderr:-}"
    [[ "$text" != *s3cr* && "$text" != *"$enc"* ]] || fail "the password printed: $text"
  }
  # pgpass FILE PASSWORD: an entry for the role on this socket (':' and '\' escaped), mode 0600.
  pgpass() {
    local escaped=${2//\\/\\\\}
    printf '%s:*:*:%s:%s\n' "$CUBE_PG_DIR" "$role" "${escaped//:/\\:}" >"$1"
    chmod 600 "$1"
  }

  # No password anywhere: libpq's reason, the socket.
  run --separate-stderr cube-sched --cluster "$url" node list
  assert_failure 1
  [[ "$stderr" == *"$socket"* && "$stderr" == *"no password supplied"* ]] || fail "$stderr"

  # ~/.pgpass.
  pgpass "$HOME/.pgpass" "$pw"
  run --separate-stderr cube-sched --cluster "$url" node register n1 --cpu 4 --mem 8G -o json
  assert_success
  no_secret

  # $PGPASSFILE, before ~/.pgpass: a wrong password there is refused.
  pgpass "$TMP/wrong.pgpass" "Pw:s3cr@t/%y"
  PGPASSFILE="$TMP/wrong.pgpass" run --separate-stderr cube-sched --cluster "$url" node list
  assert_failure 1
  [[ "$stderr" == *"$socket"* && "$stderr" == *"password authentication failed for user \"$role\""* ]] || fail "$stderr"
  no_secret
  rm "$HOME/.pgpass"
  pgpass "$TMP/right.pgpass" "$pw"
  report 1 | PGPASSFILE="$TMP/right.pgpass" cube-versions --cluster "$url" ingest --node n1 >/dev/null
  PGPASSFILE="$TMP/right.pgpass" run --separate-stderr cube-versions --cluster "$url" matrix -o json
  assert_success
  [ "$(jq -r '.components[] | select(.component == "c1") | .versions[0].version' <<<"$output")" = 1.1 ] || fail "$output"

  # The password in the URL, in its user part or as password=: it works, and the URL prints
  # redacted in -vv's diagnostics (text and JSON) and in errors.
  for inline in "postgresql://$role:$enc$at" "$url&password=$enc"; do
    redacted=${inline//$enc/***}
    run --separate-stderr cube-sched -vv --cluster "$inline" node list -o json
    assert_success
    [[ "$stderr" == *"cluster store: $redacted"* ]] || fail "$stderr"
    no_secret
    run --separate-stderr cube-sched -vv --log-format json --cluster "$inline" alloc list
    assert_success
    [[ "$stderr" == *"$redacted"* ]] || fail "$stderr"
    no_secret
    CUBE_CLUSTER_URL=${inline//$enc/Wrong%3Aone} run --separate-stderr cube-sched node list
    assert_failure 1
    [[ "$stderr" == *"$socket"* && "$stderr" == *"password authentication failed"* ]] || fail "$stderr"
    [[ "$stderr" != *Wrong* ]] || fail "$stderr"
    # libpq quotes a URL it cannot parse as written, percent-encoding and all.
    run --separate-stderr cube-versions --cluster "${inline/@\//@[}" matrix
    assert_failure 1
    [[ "$stderr" == *"IPv6 host address"* ]] || fail "$stderr"
    no_secret
  done

  # From [state] cluster: it works, and `config` does not print it.
  printf '[state]\ncluster = "postgresql://%s:%s%s"\n' "$role" "$enc" "$at" >"$CUBE_CONFIG"
  run --separate-stderr cube-sched node list -o json
  assert_success
  [ "$(jq -r '.[].id' <<<"$output")" = n1 ]
  for tool in cube-sched cube-versions; do
    run --separate-stderr "$tool" config
    assert_success
    no_secret
  done
}

# The views a script reads, the same whichever backend answers.
cluster_views() {
  cube-sched node list -o json | jq -S 'map(del(.heartbeat_age, .healthy, .reason))'
  cube-sched alloc list -o json | jq -S .
  cube-versions matrix -o json | jq -S 'del(.generated)'
}

@test "migrate: each tool copies its own tables into an empty schema, all or nothing, and never into a filled one" {
  local url=$CUBE_CLUSTER_URL
  unset CUBE_CLUSTER_URL
  node n1 8 16G --zone z1 --label rack=r1
  node n2 4 8G --instance-type g1
  cube-sched place --cpu 1 --mem 1G --sandbox s1 --commit >/dev/null
  cube-sched place --cpu 2 --mem 2G --sandbox s2 --commit >/dev/null
  cube-sched started s1
  printf '{"component":"cube-agent","version":"1.2"}\n{"component":"kernel","version":"6.1"}\n' |
    cube-versions ingest --node n1 >/dev/null
  printf '{"component":"cube-agent","version":"1.3"}\n' | cube-versions ingest --node n2 >/dev/null
  before=$(cluster_views)

  # A value PostgreSQL cannot hold, in the last row copied: nothing of the copy stays.
  sqlite3 "$CUBE_STATE" "INSERT INTO node_labels VALUES ('n2', 'bad', CAST(X'ff' AS TEXT))"
  run cube-sched migrate --to "$url"
  [ "$status" -eq 1 ]
  [[ "$output" == *"copying table node_labels, row 'n2'"* ]]
  [ "$(CUBE_CLUSTER_URL=$url cluster_sql 'SELECT COUNT(*) FROM nodes')" = 0 ]
  sqlite3 "$CUBE_STATE" "DELETE FROM node_labels WHERE key = 'bad'"

  run cube-sched migrate --to "$url" -o json
  [ "$status" -eq 0 ]
  labels=$(sqlite3 "$CUBE_STATE" 'SELECT COUNT(*) FROM node_labels')
  [ "$labels" -ge 1 ]
  [ "$(jq -c 'map([.table, .rows])' <<<"$output")" = \
    "[[\"nodes\",2],[\"node_heartbeats\",2],[\"node_labels\",$labels],[\"allocations\",2]]" ]
  run cube-versions migrate --to "$url" -o json
  [ "$status" -eq 0 ]
  [ "$(jq -c 'map([.table, .rows])' <<<"$output")" = '[["node_component_version",3],["node_version_report",2]]' ]

  export CUBE_CLUSTER_URL=$url
  [ "$(cluster_views)" = "$before" ]
  # Generated ids continue after the copied ones.
  printf '{"component":"cube-agent","version":"1.3"}\n{"component":"guest-image","version":"9"}\n' |
    cube-versions ingest --node n2 >/dev/null
  [ "$(cluster_sql 'SELECT COUNT(DISTINCT id) FROM node_component_version')" = 4 ]

  # A second run merges nothing: exit 4, naming the table, and the target as it was.
  run cube-sched migrate --to "$url"
  [ "$status" -eq 4 ]
  [[ "$output" == *"table nodes already holds rows"* ]]
  run cube-versions migrate --to "$url"
  [ "$status" -eq 4 ]
  [ "$(cluster_sql 'SELECT COUNT(*) FROM allocations')" = 2 ]
  # The state file is read, never changed; --to takes a PostgreSQL URL only.
  [ "$(sqlite3 "$CUBE_STATE" 'SELECT COUNT(*) FROM allocations')" = 2 ]
  run cube-sched migrate --to "$CUBE_STATE"
  [ "$status" -eq 2 ]
  [[ "$output" == *"expected a postgresql:// URL"* ]]
}
