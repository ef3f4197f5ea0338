#!/usr/bin/env bats
# Template replica compatibility through the real tools on one state file: cube-rootfs builds and
# distributes (binding each replica), cube-versions collect | ingest reports and rescans, the
# compat views and --check, policies, adopt-baseline, node forget, and cube-sched place --template.
# tests/cube-versions-compat-pg.bats is a link to this file: run under that name, the cluster
# tables (nodes, heartbeats, versions) are in a PostgreSQL 15 server of the file's own
# (tests/pg-helpers.bash), a fresh schema per test, and templates and replicas in the state file:
# both backends, the same tests.
load helpers
load pg-helpers
load fixtures/rootfs-images

setup_file() {
  pg_suite_start
  make_fixture_images || return 0
}
teardown_file() { pg_suite_stop; }

setup() {
  cube_setup
  pg_suite_schema
  require_root
  require_command umoci
  require_command sqlite3
  mkdir -p "$TMP/bin"
  cp "$CUBE_BUILD/bin/cube-versions" "$TMP/bin/"
  # A loaded machine can take longer than the 40 s health timeout over one test: the views,
  # placement and binding get 10 minutes.
  printf '[rootfs]\ncluster_ca = "none"\nheartbeat_timeout = "10m"\n[versions]\nbin_dir = "%s"\nheartbeat_timeout = "10m"\n[sched]\nheartbeat_timeout = "10m"\n' \
    "$TMP/bin" >"$CUBE_CONFIG"
  STORE="$TMP/store"
  printf 'kernel' >"$TMP/vmlinux"
  for n in n1 n2 n3; do
    cube-sched node register "$n" --cpu 16 --mem 64G --instance-type cubebox >/dev/null
    alive "$n"
  done
}
teardown() {
  [ -n "${BG:-}" ] && kill "$BG" 2>/dev/null || true
  cube_teardown
}

# The state file's tables (templates, replicas); the cluster's are cluster_sql's.
q() { sqlite3 "$CUBE_STATE" "$1"; }
alive() { cube-sched heartbeat "$1" --cpu-util 10 --mem-free 1T --disk-used 10 >/dev/null; }

# report NODE GUEST_IMAGE AGENT KERNEL_TAG: the node's install base says so; collect | ingest.
report() {
  local base="$TMP/base-$1"
  mkdir -p "$base/cube-image"
  echo "$2" >"$base/cube-image/version"
  cube-versions manifest --release-version 0.4.0 --guest-image-version "$2" --agent-version "$3" \
    --kernel-version "$4" --vmlinux "$TMP/vmlinux" --out "$base/release-manifest.json"
  cube-versions collect --base "$base" --node "$1" -o jsonl | cube-versions ingest --node "$1" -o json
}

build() {
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" "$@" -o json | jq -r .template_id
}

distribute() {
  local tpl=$1 args=()
  shift
  for n in n1 n2 n3; do alive "$n"; done
  for n in "$@"; do args+=(--to "$n=$TMP/nodes/$n"); done
  cube-rootfs distribute "$tpl" "${args[@]}" -o json >/dev/null
}

cell() { cube-versions compat --template "$1" -o json | jq -r --arg n "$2" '.templates[0].cells[] | select(.node_id == $n) | .status'; }
stored() { q "SELECT compat_status FROM template_replicas WHERE template_id = '$1' AND node_id = '$2'"; }

@test "the stale-replica story: bind, change a guest image, stale everywhere it matters, redo mends it" {
  for n in n1 n2 n3; do report "$n" 1.4.0 0.9.1 6.6.30 >/dev/null; done
  tpl=$(build)
  distribute "$tpl" n1 n2 n3
  # Bound at READY to each node's versions, in the same transaction.
  [ "$(q "SELECT DISTINCT guest_image_version || ' ' || agent_version || ' ' || compat_status || ' ' || compat_policy FROM template_replicas WHERE template_id = '$tpl'")" = "1.4.0 0.9.1 OK STRICT" ]
  [ "$(q "SELECT count(*) FROM template_replicas WHERE template_id = '$tpl' AND kernel_version LIKE '6.6.30@sha256:%' AND compat_checked_ms > 0")" = 3 ]
  run cube-versions compat --check
  assert_success

  # n2's guest image is upgraded: its ingest rescans its replica in the same transaction.
  run report n2 1.5.0 0.9.1 6.6.30
  assert_success
  [ "$(jq -r .rescanned <<<"$output")" = 1 ]
  [ "$(stored "$tpl" n2)" = STALE ]
  [ "$(stored "$tpl" n1)" = OK ]

  run cube-versions compat -o json
  assert_success
  [ "$(jq -r '.templates[0].overall' <<<"$output")" = STALE ]
  [ "$(jq -c '[.templates[0].cells[] | .node_id + ":" + .status]' <<<"$output")" = '["n1:OK","n2:STALE","n3:OK"]' ]
  [ "$(jq -c '.summary' <<<"$output")" = '{"templates":1,"stale_templates":1,"stale_replicas":1,"affected_nodes":1,"missing_replicas":0,"unknown_replicas":0}' ]
  run cube-versions compat
  assert_success
  assert_line --partial "$tpl"
  assert_line --regexp "Stale replicas: +1"

  run --separate-stderr cube-versions compat --check
  [ "$status" -eq 5 ]
  [[ "$stderr" == *"stale replica: template $tpl on node n2 (guest-image 1.4.0 -> 1.5.0)"* ]]
  run cube-versions compat --check --node n1
  assert_success

  run cube-versions compat show "$tpl"
  assert_success
  assert_line --regexp "^n2 .*STALE .*1\.4\.0 -> 1\.5\.0 \*"
  assert_output --partial "cube-rootfs redo $tpl --mode all --nodes n2"
  run cube-versions compat show "$tpl" -o json
  [ "$(jq -r '.[] | select(.node_id == "n2") | .bound_guest_image_version + ">" + .current_guest_image_version' <<<"$output")" = "1.4.0>1.5.0" ]

  # The scheduler never starts a sandbox from the stale replica, and says why.
  for _ in 1 2 3 4 5; do
    run cube-sched place --cpu 1 --mem 1G --template "$tpl" -o json
    assert_success
    [ "$(jq -r .node <<<"$output")" != n2 ]
  done
  run cube-sched place --cpu 1 --mem 1G --template "$tpl" --explain -o json
  [ "$(jq -r '.nodes[] | select(.node == "n2") | .filter' <<<"$output")" = template ]
  [[ "$(jq -r '.nodes[] | select(.node == "n2") | .reason' <<<"$output")" == *"replica of $tpl is STALE"* ]]
  run cube-sched place --cpu 1 --mem 1G --template "$tpl" --sandbox sb1 --commit -o json
  [ "$(jq -r .node <<<"$output")" != n2 ]

  # The command compat show printed rebinds n2 to what it runs now.
  alive n2
  cube-rootfs redo "$tpl" --mode all --nodes n2 -o json >/dev/null
  [ "$(stored "$tpl" n2)" = OK ]
  [ "$(q "SELECT guest_image_version FROM template_replicas WHERE template_id = '$tpl' AND node_id = 'n2'")" = 1.5.0 ]
  run cube-versions compat --check
  assert_success
}

@test "an unhealthy node's cells read UNKNOWN, but STALE stays STALE; a missing replica is MISSING" {
  for n in n1 n2 n3; do report "$n" 1.4.0 0.9.1 6.6.30 >/dev/null; done
  tpl=$(build)
  distribute "$tpl" n1 n2
  report n2 1.5.0 0.9.1 6.6.30 >/dev/null
  [ "$(cell "$tpl" n3)" = MISSING ]
  cube-sched heartbeat n1 --not-ready >/dev/null
  cube-sched heartbeat n2 --not-ready >/dev/null
  [ "$(cell "$tpl" n1)" = UNKNOWN ]
  [ "$(cell "$tpl" n2)" = STALE ]
  run cube-versions compat rescan --all -o json
  assert_success
  [ "$(jq -c '[.[] | .node_id + ":" + (.healthy|tostring) + ":" + (.stale|tostring)]' <<<"$output")" = '["n1:false:0","n2:false:1"]' ]
  [ "$(stored "$tpl" n1)" = UNKNOWN ]
  [ "$(stored "$tpl" n2)" = STALE ]
  run cube-versions compat show "$tpl"
  assert_output --partial "cube-rootfs distribute $tpl --to n3=DIR"
  alive n1
  run cube-versions compat rescan --node n1 -o json
  [ "$(jq -r '.[0].ok' <<<"$output")" = 1 ]
  run cube-versions compat rescan
  [ "$status" -eq 2 ]
}

@test "binding counts a node healthy by [rootfs] heartbeat_timeout" {
  report n1 1.4.0 0.9.1 6.6.30 >/dev/null
  tpl=$(build)
  cluster_sql "UPDATE node_heartbeats SET heartbeat_ms = heartbeat_ms - 120000 WHERE node_id = 'n1'"
  cube-rootfs distribute "$tpl" --to "n1=$TMP/nodes/n1" >/dev/null
  [ "$(stored "$tpl" n1)" = OK ]  # 2 minutes old, within the 10 minutes of the setup's config
  sed -i 's/^heartbeat_timeout = "10m"$/heartbeat_timeout = "1m"/' "$CUBE_CONFIG"
  cube-rootfs redo "$tpl" --mode all --nodes n1 >/dev/null
  [ "$(stored "$tpl" n1)" = UNKNOWN ]  # not healthy by a 1-minute timeout: bound, not evaluated
  [ "$(q "SELECT guest_image_version FROM template_replicas WHERE template_id = '$tpl'")" = 1.4.0 ]
}

@test "adopt-baseline binds UNKNOWN replicas of healthy nodes that now report" {
  report n1 1.4.0 0.9.1 6.6.30 >/dev/null
  tpl=$(build)
  distribute "$tpl" n1 n2 n3  # n2 and n3 have not reported: bound to nothing
  [ "$(stored "$tpl" n2)" = UNKNOWN ]
  [ "$(q "SELECT guest_image_version FROM template_replicas WHERE template_id = '$tpl' AND node_id = 'n2'")" = "" ]
  report n2 1.4.0 0.9.1 6.6.30 >/dev/null
  report n3 1.4.0 0.9.1 6.6.30 >/dev/null
  [ "$(stored "$tpl" n2)" = UNKNOWN ]
  cube-sched heartbeat n3 --not-ready >/dev/null
  run cube-versions compat show "$tpl"
  assert_output --partial "cube-versions compat adopt-baseline $tpl"
  run cube-versions compat adopt-baseline "$tpl" -o json
  assert_success
  [ "$(jq -r .updated <<<"$output")" = 1 ]
  [ "$(stored "$tpl" n2)" = OK ]
  [ "$(q "SELECT guest_image_version || '/' || agent_version FROM template_replicas WHERE template_id = '$tpl' AND node_id = 'n2'")" = 1.4.0/0.9.1 ]
  [ "$(stored "$tpl" n3)" = UNKNOWN ]  # not healthy: left alone
  run cube-versions compat adopt-baseline "$tpl" -o json
  [ "$(jq -r .updated <<<"$output")" = 0 ]
  run cube-versions compat adopt-baseline tpl-000000000000000000000000
  [ "$status" -eq 3 ]
}

@test "policies: STRICT, GUEST_ONLY and STRICT_KERNEL, and new replicas take the template's" {
  for n in n1 n2 n3; do report "$n" 1.4.0 0.9.1 6.6.30 >/dev/null; done
  tpl=$(build)
  distribute "$tpl" n1 n2
  report n1 1.4.0 0.9.2 6.6.30 >/dev/null  # the agent alone
  report n2 1.4.0 0.9.1 6.6.31 >/dev/null  # the kernel alone
  [ "$(stored "$tpl" n1)" = STALE ]
  [ "$(stored "$tpl" n2)" = OK ]
  run cube-versions compat policy "$tpl" guest_only -o json
  assert_success
  [ "$(jq -r '.policy + " " + (.replicas|tostring) + " " + (.ok|tostring)' <<<"$output")" = "GUEST_ONLY 2 2" ]
  [ "$(stored "$tpl" n1)" = OK ]
  cube-versions compat policy "$tpl" STRICT_KERNEL >/dev/null
  [ "$(stored "$tpl" n1)" = STALE ]
  [ "$(stored "$tpl" n2)" = STALE ]
  run cube-versions compat --check
  [ "$status" -eq 5 ]
  run cube-versions compat show "$tpl"
  assert_line --regexp "^n2 .*6\.6\.30@sha256:[0-9a-f]+ -> 6\.6\.31@sha256:[0-9a-f]+ \*"
  distribute "$tpl" n3
  [ "$(q "SELECT compat_policy || ' ' || compat_status FROM template_replicas WHERE template_id = '$tpl' AND node_id = 'n3'")" = "STRICT_KERNEL OK" ]
  # A kernel-only change rescans STRICT_KERNEL replicas on ingest.
  run report n3 1.4.0 0.9.1 6.6.32
  [ "$(jq -r .rescanned <<<"$output")" = 1 ]
  [ "$(stored "$tpl" n3)" = STALE ]
  run cube-versions compat policy "$tpl" LOOSE
  [ "$status" -eq 2 ]
  run cube-versions compat policy tpl-000000000000000000000000 STRICT
  [ "$status" -eq 3 ]
}

@test "node forget removes a decommissioned node's reports and says what it removed" {
  report n3 1.4.0 0.9.1 6.6.30 >/dev/null
  run cube-versions matrix -o json
  [ "$(jq -r '[.nodes[].node_id] | index("n3") != null' <<<"$output")" = true ]
  run cube-versions node forget n3 -o json
  assert_success
  [ "$(jq -r '(.components > 0 | tostring) + " " + (.report | tostring)' <<<"$output")" = "true true" ]
  [ "$(cluster_sql "SELECT count(*) FROM node_component_version WHERE node_id = 'n3'")" = 0 ]
  run cube-versions node forget n3
  [ "$status" -eq 3 ]
}

@test "concurrent ingest and distribute lose no binding" {
  for n in n1 n2; do report "$n" 1.4.0 0.9.1 6.6.30 >/dev/null; done
  tpl=$(build)
  mkdir -p "$TMP/base-n1/cube-image"
  (
    for i in $(seq 1 20); do
      v=1.4.$((i % 2))
      echo "$v" >"$TMP/base-n1/cube-image/version"
      cube-versions collect --base "$TMP/base-n1" --node n1 -o jsonl | cube-versions ingest --node n1 >/dev/null
    done
  ) &
  BG=$!
  for _ in $(seq 1 8); do distribute "$tpl" n1 n2; done
  wait "$BG"
  BG=
  final=$(cluster_sql "SELECT version FROM node_component_version WHERE node_id = 'n1' AND component = 'guest-image'")
  bound=$(q "SELECT guest_image_version FROM template_replicas WHERE template_id = '$tpl' AND node_id = 'n1'")
  want=OK
  [ "$bound" = "$final" ] || want=STALE
  [ "$(stored "$tpl" n1)" = "$want" ]
  [ "$(cell "$tpl" n1)" = "$want" ]
}
