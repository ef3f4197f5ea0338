#!/usr/bin/env bats
# cube-sched through the real binary and a real state file: registry, health, selectors, overcommit,
# --explain, commit/release, --batch, and 40 placers committing at once.
# tests/cube-sched-pg.bats is a link to this file: run under that name, every test here runs with
# the cluster tables in a PostgreSQL 15 server of the file's own (tests/pg-helpers.bash), a fresh
# schema per test, through $CUBE_CLUSTER_URL: both backends, the same tests.
load helpers
load pg-helpers

setup_file() { pg_suite_start; }
teardown_file() { pg_suite_stop; }
setup() {
  cube_setup
  pg_suite_schema
}
teardown() { cube_teardown; }

# node ID CPU MEM [register options…]: registered and freshly heartbeating with plenty of real memory.
node() {
  local id=$1 cpu=$2 mem=$3
  shift 3
  cube-sched node register "$id" --cpu "$cpu" --mem "$mem" "$@" >/dev/null
  cube-sched heartbeat "$id" --cpu-util 10 --mem-free 1T
}

config() { printf '%s\n' "$@" >"$CUBE_CONFIG"; }

placed() { cube-sched place "$@" -o json | jq -r .node; }

heartbeat_ms() { cube-sched node show "$1" -o json | jq -r .heartbeat_ms; }
# heartbeat_after NODE MS: the node's last heartbeat is later than MS.
heartbeat_after() { [ "$(heartbeat_ms "$1")" -gt "$2" ]; }

@test "register, list and show: canonical labels always exist and win" {
  run --separate-stderr cube-sched node register n1 --cpu 16 --mem 64G --zone z1 --instance-type c1 \
    --label rack=r7 --label topology.kubernetes.io/zone=evil --address 10.0.0.1 -o json
  assert_success
  [[ "$stderr" == *"label 'topology.kubernetes.io/zone' is canonical"* ]]
  [ "$(jq -r .cpu_m <<<"$output")" = 16000 ]
  [ "$(jq -r .cpu_effective_m <<<"$output")" = 48000 ]
  [ "$(jq -r .mem_effective_bytes <<<"$output")" = $((128 << 30)) ]
  run cube-sched node show n1 -o json
  assert_success
  [ "$(jq -r '.labels["topology.kubernetes.io/zone"]' <<<"$output")" = z1 ]
  [ "$(jq -r '.labels["kubernetes.io/memory-size"]' <<<"$output")" = 65536Mi ]
  [ "$(jq -r '.labels["kubernetes.io/cpu-cores"]' <<<"$output")" = 16000m ]
  [ "$(jq -r '.labels["kubernetes.io/instance-type"]' <<<"$output")" = c1 ]
  [ "$(jq -r '.labels["kubernetes.io/cpu-type"]' <<<"$output")" = "" ]
  [ "$(jq -r '.labels["topology.kubernetes.io/cluster-id"]' <<<"$output")" = "" ]
  [ "$(jq -r '.labels.rack' <<<"$output")" = r7 ]
  # Registering again updates the registration in place.
  cube-sched node register n1 --cpu 8 --mem 64G >/dev/null
  run cube-sched node list -o json
  [ "$(jq -r 'length' <<<"$output")" = 1 ]
  [ "$(jq -r '.[0].cpu_m' <<<"$output")" = 8000 ]
}

@test "register refuses bad input with exit 2 and writes nothing" {
  for args in "n/1 --cpu 1 --mem 1G" "n1 --cpu 0 --mem 1G" "n1 --cpu 1x --mem 1G" "n1 --cpu 1 --mem 0" \
    "n1 --cpu 1 --mem 1G --label noequals" "n1 --cpu 1 --mem 1G --label k=has/slash" \
    "n1 --cpu 1 --mem 1G --address 999.1.1.1" "n1 --cpu 1 --mem 1G --zone bad/zone" "n1 --mem 1G"; do
    run --separate-stderr cube-sched node register $args
    assert_failure 2
    [[ "$stderr" == "cube-sched: error: "* ]]
  done
  run cube-sched node list -o json
  [ "$output" = "[]" ]
}

@test "heartbeat measures /proc when not told, and needs a registered node" {
  cube-sched node register n1 --cpu 1 --mem 1G >/dev/null
  run cube-sched node list -o json
  [ "$(jq -r '.[0].reason' <<<"$output")" = HeartbeatExpired ]
  [ "$(jq -r '.[0].heartbeat_age' <<<"$output")" = never ]
  cube-sched heartbeat n1
  run cube-sched node list -o json
  [ "$(jq -r '.[0].healthy' <<<"$output")" = true ]
  [ "$(jq -r '.[0].mem_free_bytes > 0' <<<"$output")" = true ]
  [ "$(jq -r '.[0].cpu_util >= 0 and .[0].cpu_util <= 100' <<<"$output")" = true ]
  # The disk figure is the state file's file system, as df counts it.
  want=$(df --output=pcent "$(dirname "$CUBE_STATE")" | tail -1 | tr -dc 0-9)
  got=$(jq -r '.[0].disk_used' <<<"$output")
  awk -v w="$want" -v g="$got" 'BEGIN {exit !(g >= w - 2 && g <= w + 2)}' || fail "disk_used $got, df says $want%"
  run --separate-stderr cube-sched heartbeat ghost
  assert_failure 3
  run --separate-stderr cube-sched heartbeat n1 --cpu-util 101
  assert_failure 2
  run --separate-stderr cube-sched heartbeat n1 --ready --not-ready
  assert_failure 2
  run --separate-stderr cube-sched heartbeat n1 --disk-used 100.5
  assert_failure 2
  config '[sched]' 'disk_path = "/nonexistent/store"'
  run --separate-stderr cube-sched heartbeat n1
  assert_failure 2
  [[ "$stderr" == *"/nonexistent/store"* ]]
}

@test "disk filter: a node at or above disk_usage_max_percent is skipped, with its own reason" {
  node n1 4 4G
  node n2 4 4G
  cube-sched heartbeat n1 --cpu-util 10 --mem-free 1T --disk-used 80
  [ "$(placed --cpu 1 --mem 1G)" = n2 ]
  run cube-sched place --cpu 1 --mem 1G --explain -o json
  [ "$(jq -r '.nodes[] | select(.node == "n1") | .filter' <<<"$output")" = disk ]
  [[ "$(jq -r '.nodes[] | select(.node == "n1") | .reason' <<<"$output")" == *"disk usage 80.0% ≥ ceiling 80%"* ]]
  cube-sched heartbeat n2 --cpu-util 10 --mem-free 1T --disk-used 99
  run --separate-stderr cube-sched place --cpu 1 --mem 1G
  assert_failure 4
  [[ "$stderr" == *"2 nodes: disk"* ]]
  config '[sched]' 'disk_usage_max_percent = 99.5'
  [ "$(placed --cpu 1 --mem 1G)" = n1 ]
}

@test "create-rate: sandboxes still being created hold a slot until started or the window passes" {
  node n1 64 64G
  config '[sched]' 'create_limit = 2'
  cube-sched place --cpu 1 --mem 1M --sandbox a --commit >/dev/null
  cube-sched place --cpu 1 --mem 1M --sandbox b --commit >/dev/null
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --sandbox c --commit
  assert_failure 4
  [[ "$stderr" == *"1 node: create-rate"* ]]
  run cube-sched node list -o json
  [ "$(jq -r '.[0].creating' <<<"$output")" = 2 ]
  cube-sched started a
  cube-sched started a  # idempotent: the first start time stays
  [ "$(cube-sched alloc list -o json | jq -r '[.[] | select(.started != null)] | length')" = 1 ]
  cube-sched place --cpu 1 --mem 1M --sandbox c --commit >/dev/null
  run --separate-stderr cube-sched started ghost
  assert_failure 3
  # Past create_window an allocation never marked started stops counting.
  config '[sched]' 'create_limit = 2' 'create_window = "1ms"'
  sleep 0.01
  cube-sched place --cpu 1 --mem 1M --sandbox d --commit >/dev/null
  # 40 placers at once never put more than the limit in creation on one node.
  config '[sched]' 'create_limit = 5' 'create_window = "1h"'
  cube-sched node register n2 --cpu 64 --mem 64G >/dev/null
  cube-sched heartbeat n2 --cpu-util 10 --mem-free 1T
  cube-sched node cordon n1
  for i in $(seq 40); do cube-sched place --cpu 1 --mem 1M --sandbox "p$i" --commit >/dev/null 2>&1 & done
  wait
  [ "$(cube-sched alloc list --node n2 -o json | jq length)" = 5 ]
}

@test "an unknown instance type fits nowhere, and --explain says no node has it" {
  node n1 4 4G --instance-type small
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --instance-type gpu
  assert_failure 4
  [[ "$stderr" == *'1 node: instance-type (no node has "gpu")'* ]]
  run cube-sched place --cpu 1 --mem 1G --instance-type gpu --explain
  [[ "$output" == *"no node has that instance type"* ]]
}

@test "health: not ready, stale heartbeat and the configured timeout" {
  node n1 1 1G
  node n2 1 1G
  cube-sched heartbeat n2 --not-ready --mem-free 1T
  run cube-sched node list -o json
  [ "$(jq -r '.[] | select(.id=="n1") | .healthy' <<<"$output")" = true ]
  [ "$(jq -r '.[] | select(.id=="n2") | .reason' <<<"$output")" = ReportedNotReady ]
  # A heartbeat two minutes old, as a node that went silent leaves it.
  cluster_sql "UPDATE node_heartbeats SET heartbeat_ms = heartbeat_ms - 120000 WHERE node_id = 'n1'"
  run cube-sched node show n1 -o json
  [ "$(jq -r .reason <<<"$output")" = HeartbeatExpired ]
  run --separate-stderr cube-sched place --cpu 100m --mem 1M
  assert_failure 4
  [[ "$stderr" == *"1 node: unhealthy (heartbeat 2m ago)"* ]]
  [[ "$stderr" == *"1 node: unhealthy (reported not ready)"* ]]
  config '[sched]' 'heartbeat_timeout = "5m"'
  [ "$(placed --cpu 100m --mem 1M)" = n1 ]
  run cube-sched config -o json
  [ "$(jq -r '.[] | select(.key=="sched.heartbeat_timeout") | .source' <<<"$output")" = config ]
  # Where the cluster tables are: the state file (""), or the URL ($CUBE_CLUSTER_URL counts as a flag).
  [ "$(jq -r '.[] | select(.key=="state.cluster") | .value' <<<"$output")" = "${CUBE_CLUSTER_URL:-}" ]
  [ "$(jq -r '.[] | select(.key=="state.cluster") | .source' <<<"$output")" = "$([ -n "${CUBE_CLUSTER_URL:-}" ] && echo flag || echo default)" ]
  run cube-sched --cluster 'postgresql://cube:s3cret@db.example/cube' config
  assert_success
  [[ "$output" == *'postgresql://cube:***@db.example/cube'* ]]
  [[ "$output" != *s3cret* ]]
}

@test "cordon and uncordon" {
  node n1 1 1G
  cube-sched node cordon n1
  run --separate-stderr cube-sched place --cpu 1 --mem 1M
  assert_failure 4
  [[ "$stderr" == *"1 node: cordon"* ]]
  cube-sched node uncordon n1
  [ "$(placed --cpu 1 --mem 1M)" = n1 ]
  run cube-sched node cordon ghost
  assert_failure 3
}

@test "selectors: every operator through the CLI" {
  node a 8 32G --zone z1 --label rack=r1
  node b 16 64G --zone z2 --label rack=r2
  node c 32 128G --zone z3
  config '[sched]' 'selector_keys = ["rack"]'
  sel() { placed --cpu 1 --mem 1G --selector "$1"; }
  [ "$(sel '[{"key":"zone","operator":"In","values":["z2"]}]')" = b ]
  [ "$(sel '[{"key":"rack","operator":"NotIn","values":["r1","r2"]}]')" = c ]
  [ "$(sel '[{"key":"rack","operator":"Exists"}]')" = b ]
  [ "$(sel '[{"key":"rack","operator":"DoesNotExist"}]')" = c ]
  [ "$(sel '[{"key":"memory-size","operator":"Lt","values":["64Gi"]}]')" = a ]
  [ "$(sel '[{"key":"kubernetes.io/cpu-cores","operator":"Gt","values":["16"]}]')" = c ]
  [ "$(sel '[]')" = c ]
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector '[{"key":"cpu-cores","operator":"Gt","values":["32"]}]'
  assert_failure 4
  [[ "$stderr" == *"3 nodes: affinity (selector[0])"* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector '[{"key":"cpu-cores","operator":"Gt","values":["lots"]}]'
  assert_failure 4
  [ "$(placed --cpu 1 --mem 1G --annotation com.nodeaffinity.selector='[{"key":"zone","operator":"In","values":["z1"]}]')" = a ]
}

@test "selectors: each limit is an exit-2 error naming the requirement" {
  node a 1 1G
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector "[$(printf ' %.0s' $(seq 4100))]"
  assert_failure 2
  [[ "$stderr" == *"4096"* ]]
  many=$(printf '{"key":"zone","operator":"Exists"},%.0s' $(seq 11))
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector "[${many%,}]"
  assert_failure 2
  [[ "$stderr" == *"11 requirements"*"limit is 10"* ]]
  vals=$(seq 51 | jq -R . | jq -sc .)
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector "[{\"key\":\"zone\",\"operator\":\"Exists\"},{\"key\":\"zone\",\"operator\":\"In\",\"values\":$vals}]"
  assert_failure 2
  [[ "$stderr" == *"selector[1]: In has 51 values (the limit is 50)"* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector '[{"key":"zone","operator":"Exists","values":["x"]}]'
  assert_failure 2
  [[ "$stderr" == *"selector[0]"*"takes no values"* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector '[{"key":"rack","operator":"Exists"}]'
  assert_failure 2
  [[ "$stderr" == *'selector[0]: node selector key "rack" is not allowed'* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector '[{"key":"zone","operator":"Gt","values":["1","2"]}]'
  assert_failure 2
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector '[{"key":"zone","operator":"Lt","values":["5"]}]'
  assert_failure 2
  [[ "$stderr" == *'selector[0]: Lt on "topology.kubernetes.io/zone", which is not a quantity'* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector 'not json'
  assert_failure 2
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --selector '[]' --annotation com.nodeaffinity.selector='[]'
  assert_failure 2
}

@test "colon-separated instance type and cluster annotations" {
  node a 1 1G --instance-type c1 --cluster-id k1
  node b 1 1G --instance-type c2 --cluster-id k2
  node c 1 1G --instance-type c3 --cluster-id k2
  [ "$(placed --cpu 1 --mem 1M --annotation com.nodeaffinity.instancetype=c9:c2)" = b ]
  [ "$(placed --cpu 1 --mem 1M --annotation com.nodeaffinity.cluster.label=k2 --annotation com.nodeaffinity.instancetype=c3)" = c ]
  [ "$(placed --cpu 1 --mem 1M --instance-type c1)" = a ]
  run --separate-stderr cube-sched place --cpu 1 --mem 1M --instance-type c9
  assert_failure 4
  [[ "$stderr" == *"3 nodes: instance-type"* ]]
}

@test "--explain -o json: the rejecting filter, the numbers and the scores" {
  node full 16 64G
  node roomy 16 64G
  node hot 16 64G
  cube-sched heartbeat hot --cpu-util 95 --mem-free 1T
  cube-sched place --cpu 46500m --mem 1G --sandbox big --commit >/dev/null  # lands on full (lowest ID of the tie)
  run cube-sched place --cpu 2000m --mem 4G --explain -o json
  assert_success
  [ "$(jq -r .node <<<"$output")" = roomy ]
  [ "$(jq -r '.nodes[] | select(.node=="full") | .filter' <<<"$output")" = cpu ]
  [ "$(jq -r '.nodes[] | select(.node=="full") | .reason' <<<"$output")" = \
    "free 1500m < requested 2000m (quota 16000m × 3 − allocated 46500m)" ]
  [ "$(jq -r '.nodes[] | select(.node=="full") | .free_cpu_m' <<<"$output")" = 1500 ]
  [ "$(jq -r '.nodes[] | select(.node=="hot") | .filter' <<<"$output")" = cpu-util ]
  [ "$(jq -r '.nodes[] | select(.node=="roomy") | .fits' <<<"$output")" = true ]
  [ "$(jq -r '.nodes[] | select(.node=="roomy") | .score.cpu' <<<"$output")" = "$(jq -n '46000*100/48000')" ]
  [ "$(jq -r '[.rejections[] | "\(.count) \(.reason)"] | join(",")' <<<"$output")" = "1 cpu,1 cpu-util" ]
  # Nothing fits: the explanation still prints, the status is 4 and stderr has the summary.
  run --separate-stderr cube-sched place --cpu 100 --mem 1G --explain -o json
  assert_failure 4
  [ "$(jq -r .node <<<"$output")" = null ]
  [ "$(jq -r '.rejections[0].count' <<<"$output")" = 3 ]
  [[ "$stderr" == *"no node fits the request (3 nodes: cpu)" ]]
  run cube-sched place --cpu 1 --mem 1G --explain
  assert_success
  assert_output --partial "REJECTED BY"
}

@test "overcommit: configured ratios, per-type overrides, NaN clamping, ignored allocations" {
  node plain 10 10G
  node typed 10 10G --instance-type big
  config '[sched]' 'cpu_ratio = 2.0' 'mem_ratio = nan' '[sched.instance_types.big]' 'cpu_ratio = 1.0'
  run cube-sched node list -o json
  [ "$(jq -r '.[] | select(.id=="plain") | .cpu_effective_m' <<<"$output")" = 20000 ]
  [ "$(jq -r '.[] | select(.id=="plain") | .mem_effective_bytes' <<<"$output")" = $((20 << 30)) ]
  [ "$(jq -r '.[] | select(.id=="typed") | .cpu_effective_m' <<<"$output")" = 10000 ]
  [ "$(jq -r '.[] | select(.id=="typed") | .mem_effective_bytes' <<<"$output")" = $((20 << 30)) ]
  [ "$(placed --cpu 15 --mem 1G)" = plain ]
  cube-sched place --cpu 20 --mem 1G --sandbox s1 --commit >/dev/null
  run --separate-stderr cube-sched place --cpu 1m --mem 1G --selector '[{"key":"instance-type","operator":"In","values":[""]}]'
  assert_failure 4
  config '[sched]' 'cpu_ratio = 2.0' 'ignore_recorded_allocations = true'
  [ "$(placed --cpu 20 --mem 1G --selector '[{"key":"instance-type","operator":"In","values":[""]}]')" = plain ]
}

@test "memory reserve and the sandbox limit" {
  node n1 4 64G --max-sandboxes 1
  cube-sched heartbeat n1 --cpu-util 1 --mem-free 12G
  run --separate-stderr cube-sched place --cpu 1 --mem 2G
  assert_failure 4
  [[ "$stderr" == *"mem-free"* ]]
  [ "$(placed --cpu 1 --mem 1G)" = n1 ]  # 12G > 1G + 10G reserve
  cube-sched place --cpu 1 --mem 1G --sandbox s1 --commit >/dev/null
  run --separate-stderr cube-sched place --cpu 1 --mem 1M
  assert_failure 4
  [[ "$stderr" == *"1 node: sandboxes"* ]]
}

@test "commit, alloc list, release, and removing a node that holds allocations" {
  node n1 1 1G
  run cube-sched place --cpu 500m --mem 1M --sandbox sb1 --commit -o json
  assert_success
  [ "$(jq -r .committed <<<"$output")" = true ]
  run --separate-stderr cube-sched place --cpu 500m --mem 1M --sandbox sb1 --commit
  assert_failure 4
  [[ "$stderr" == *"already allocated on node 'n1'"* ]]
  run --separate-stderr cube-sched place --cpu 500m --mem 1M --commit
  assert_failure 2
  run cube-sched alloc list -o json
  [ "$(jq -r '.[0].sandbox + " " + .[0].node + " " + (.[0].cpu_m|tostring)' <<<"$output")" = "sb1 n1 500" ]
  run cube-sched node list -o json
  [ "$(jq -r '.[0].cpu_allocated_m' <<<"$output")" = 500 ]
  run --separate-stderr cube-sched node remove n1
  assert_failure 4
  cube-sched release sb1
  run cube-sched release sb1
  assert_failure 3
  cube-sched place --cpu 500m --mem 1M --sandbox sb2 --commit >/dev/null
  cube-sched node remove n1 --force
  run cube-sched alloc list -o json
  [ "$output" = "[]" ]
  run cube-sched node remove n1
  assert_failure 3
}

@test "--batch: one decision per line, errors in place, commits that see each other" {
  node a 1 1G
  node b 1 1G
  printf '%s\n' '{"cpu":"2","mem":"1M","sandbox":"s1"}' '{"cpu":"2","mem":"1M","sandbox":"s2"}' \
    '{"cpu":"2","mem":"1M","sandbox":"s3"}' 'garbage' '{"cpu":"1","mem":"1M","colour":"red"}' \
    '{"cpu":"1","mem":"1M","selector":[{"key":"zone","operator":"Nope"}]}' >"$TMP/in.jsonl"
  run --separate-stderr cube-sched place --batch --commit <"$TMP/in.jsonl"
  assert_failure 4
  [ "${#lines[@]}" -eq 6 ]
  [ "$(jq -r .node <<<"${lines[0]}")" = a ]
  [ "$(jq -r .node <<<"${lines[1]}")" = b ]
  [ "$(jq -r .node <<<"${lines[2]}")" = null ]
  [ "$(jq -r .exit <<<"${lines[2]}")" = 4 ]
  [ "$(jq -r .exit <<<"${lines[3]}")" = 2 ]
  [[ "$(jq -r .error <<<"${lines[4]}")" == *'unknown field "colour"'* ]]
  [[ "$(jq -r .error <<<"${lines[5]}")" == *'selector[0]: unsupported operator'* ]]
  [ "$(jq -r '[.[] | .sandbox] | join(",")' <<<"$(cube-sched alloc list -o json)")" = "s1,s2" ]
  printf '%s\n' '{"cpu":"1m","mem":"1M"}' '{"cpu":1,"mem":1048576}' | cube-sched place --batch >"$TMP/out"
  [ "$(jq -r .node "$TMP/out" | sort -u)" = a ]
}

# batch_place_until NODE REQUEST_JSON_PREFIX: asks the running batch for sandboxes NODE-1, NODE-2, …
# (REQUEST plus the sandbox) every 0.2 s until one lands on NODE; a deadline of 20 s is for a hang.
batch_place_until() {
  local node=$1 request=$2 i=0
  while :; do
    i=$((i + 1))
    batch_ask "$request,\"sandbox\":\"$node-$i\"}"
    [ "$(jq -r .node <<<"$BATCH_REPLY")" = "$node" ] && return 0
    [ "$i" -lt 100 ] || fail "the batch never placed on $node: $BATCH_REPLY"
    sleep 0.2
  done
}

@test "--batch keeps running on current numbers: a node registered after it started is used, one filled meanwhile is never overfilled" {
  node a 1 1G
  batch_start cube-sched place --batch --commit
  batch_ask '{"cpu":"1","mem":"1M","sandbox":"s1"}'
  [ "$(jq -r .node <<<"$BATCH_REPLY")" = a ]
  # A bigger node registered now is picked up by the batch's next read of the nodes, with no restart.
  node b 8 1G
  batch_place_until b '{"cpu":"20","mem":"1M"'
  # Another placer fills b behind the batch's back; the batch still decides on its inventory in
  # memory, but its commit re-reads b and finds it full: the line is refused, nothing overfilled.
  cube-sched release "$(jq -r .sandbox <<<"$BATCH_REPLY")" >/dev/null
  cube-sched place --cpu 20 --mem 1M --sandbox other --commit >/dev/null
  batch_ask '{"cpu":"20","mem":"1M","sandbox":"late"}'
  [ "$(jq -r .node <<<"$BATCH_REPLY")" = null ]
  [ "$(jq -r .exit <<<"$BATCH_REPLY")" = 4 ]
  [ "$(cube-sched alloc list --node b -o json | jq -r '[.[].sandbox] | join(",")')" = other ]
  batch_stop
  [ "$BATCH_STATUS" = 4 ]
  grep -q "some requests were not placed" "$TMP/batch.err"
}

@test "40 processes committing at once never overfill a node and record each sandbox once" {
  # 3 nodes × 1.5 cores × ratio 3 = 4500m each; at 500m a request that is 27 places for 31
  # distinct sandboxes (the first 10 processes all place the same sandbox, "dup").
  for n in n1 n2 n3; do node "$n" 1.5 64G; done
  pids=()
  for i in $(seq 1 40); do
    sb=sb-$i
    if [ "$i" -le 10 ]; then sb=dup; fi
    cube-sched place --cpu 500m --mem 64M --sandbox "$sb" --commit -o json >"$TMP/out.$i" 2>"$TMP/err.$i" &
    pids+=($!)
  done
  ok=0
  for i in $(seq 1 40); do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "process $i exited $rc: $(cat "$TMP/err.$i")"
    [ "$rc" = 0 ] && ok=$((ok + 1))
  done
  [ "$ok" -eq 27 ]
  run cluster_sql "SELECT COUNT(*), COUNT(DISTINCT sandbox_id) FROM allocations"
  [ "$output" = "27|27" ]
  run cluster_sql "SELECT COUNT(*) FROM allocations WHERE sandbox_id = 'dup'"
  [ "$output" -le 1 ]
  run cluster_sql "SELECT MAX(s) FROM (SELECT SUM(cpu_m) s FROM allocations GROUP BY node_id) t"
  [ "$output" -le 4500 ]
  # The losers were told why: the sandbox was already placed, or nothing had room left.
  for i in $(seq 1 40); do
    [ -s "$TMP/err.$i" ] || continue
    grep -qE "already allocated|no node fits" "$TMP/err.$i" || fail "process $i: $(cat "$TMP/err.$i")"
  done
}

@test "--cluster: a postgresql:// URL only, before \$CUBE_CLUSTER_URL, never printed with its password" {
  cube-sched --help | grep -q -- '--cluster URL'
  run --separate-stderr cube-sched --cluster 'mysql://cube:s3cret@db/cube' node list
  assert_failure 2
  [[ "$stderr" == *"cluster URL 'mysql://cube:***@db/cube' is not a PostgreSQL URL"* ]]
  [[ "$stderr" != *s3cret* ]]
  run --separate-stderr cube-sched node list --cluster ''
  assert_failure 2
  # No server there: exit 1 naming the socket directory, not the password; the flag beats the
  # variable, which alone would be exit 2.
  CUBE_CLUSTER_URL='mysql://x' run --separate-stderr cube-sched node list \
    --cluster "postgresql://cube:s3cret@/cube?host=$TMP/no-server"
  assert_failure 1
  [[ "$stderr" == *"$TMP/no-server"* ]]
  [[ "$stderr" != *s3cret* ]]
}

@test "heartbeat --loop waits at least one interval before the first report" {
  cube-sched node register n1 --cpu 1 --mem 1G >/dev/null
  mkfifo "$TMP/log"
  cube-sched heartbeat n1 --loop 30s --mem-free 1G -vv 2>"$TMP/log" &
  pid=$!
  # Ready when the loop says it waits (-vv). A report made before that wait would be in the state
  # file by then, so no time has to pass and a slow machine cannot hide one.
  run timeout 10 grep -m1 "next heartbeat in" "$TMP/log"
  assert_success
  wait_ms=$(grep -o '[0-9]* ms' <<<"$output" | cut -d' ' -f1)
  [ "$wait_ms" -ge 30000 ] && [ "$wait_ms" -lt 45000 ] || fail "first wait $wait_ms ms, not in [30 s, 45 s)"
  run cube-sched node show n1 -o json
  kill "$pid"
  wait "$pid" || true
  [ "$(jq -r .heartbeat_ms <<<"$output")" = 0 ]
  run --separate-stderr cube-sched heartbeat n1 --loop 0s
  assert_failure 2
}

@test "heartbeat --loop keeps reporting" {
  cube-sched node register n1 --cpu 1 --mem 1G >/dev/null
  cube-sched heartbeat n1 --loop 100ms --mem-free 1G &
  pid=$!
  poll_until 10 heartbeat_after n1 0
  first=$(heartbeat_ms n1)
  poll_until 10 heartbeat_after n1 "$first"
  second=$(heartbeat_ms n1)
  kill "$pid"
  wait "$pid" || true
  [ "$second" -gt "$first" ]
}

@test "systemd units: the heartbeat timer fires every 20-30 s, inside the 40 s timeout" {
  unit="$CUBE_ROOT/scripts/systemd/cube-sched-heartbeat"
  grep -q '^ExecStart=/usr/local/bin/cube-sched heartbeat \${CUBE_NODE_ID}$' "$unit.service"
  grep -q '^OnUnitActiveSec=20s$' "$unit.timer"
  grep -q '^RandomizedDelaySec=10s$' "$unit.timer"
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
  # Only the binary's absence (it is not installed here) may be reported.
  run systemd-analyze verify --man=no "$unit.service" "$unit.timer"
  [ -z "$(grep -v 'cube-sched is not executable' <<<"$output")" ] || fail "$output"
}
