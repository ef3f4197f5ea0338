#!/usr/bin/env bats
# scripts/cube-sandbox: a real microVM (QEMU, TCG without /dev/kvm) booted from a busybox web server
# image, reached through its mapped port from a world namespace, making one allowed and one refused
# request out; then nothing of it left. And `up` killed at random points, cleaned by reconcile.
# Everything runs in the test's own node and world namespaces (tests/tap-helpers.bash).
load tap-helpers

SANDBOX_SH="$CUBE_ROOT/scripts/cube-sandbox"

setup() {
  tap_setup
  SB="sb$$x$BATS_TEST_NUMBER"
  ip -n "$WORLD" addr add 198.51.100.3/24 dev w0
  mkdir -p "$TMP/www" "$TMP/run" "$TMP/guest"
  echo "hello from the world" >"$TMP/www/hello.txt"
  # The test's config: its own pins, socket, stores, log root and run directory; pooled TAPs are
  # not kept (pool_max 0), so "no TAP left" is literal; a heartbeat is fresh for the whole test.
  tap_config 'socket = "'"$TMP/tap.sock"'"' 'pool_max = 0' \
    '[rootfs]' 'store = "'"$TMP/store"'"' 'cluster_ca = "none"' \
    '[logs]' 'root = "'"$TMP/logs"'"' \
    '[sched]' 'heartbeat_timeout = "1h"' \
    '[sandbox]' 'node = "n1"' 'run_dir = "'"$TMP/run"'"' "guest_dir = \"${GUEST_DIR:-$TMP/guest}\"" \
    "${EXTRA_CONFIG[@]}"
  cube-sched -q node register n1 --cpu 4 --mem 4G >/dev/null
  cube-sched -q heartbeat n1 --cpu-util 5 --mem-free 4G
  tap_node
  start_server
  echo '{"allowInternetAccess": false, "allowOut": ["198.51.100.1/32"]}' >"$TMP/policy.json"
  NETNS_BEFORE=$(netns_names)
}

teardown() {
  # Whatever a failed test left running: every VMM process group a journal or launcher names.
  local f
  for f in "$TMP"/run/*/vmm.pid; do [ -e "$f" ] && kill -KILL -- "-$(cut -d: -f1 "$f")" 2>/dev/null || true; done
  tap_teardown
}

# The namespaces of this test and its sandbox (other tests on the machine make their own meanwhile).
netns_names() { ip netns list | awk '{ print $1 }' | grep -e "$NS" -e "$SB" | sort; }
sandbox() { ip netns exec "$NS" "$SANDBOX_SH" "$@"; }

# Serves $TMP/www on ADDRESS:8000 in the world namespace.
world_http() {
  ip netns exec "$WORLD" python3 -m http.server --bind "$1" 8000 --directory "$TMP/www" >"$TMP/http-$1.log" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 100); do
    ip netns exec "$WORLD" curl -s -o /dev/null -m 1 "http://$1:8000/" && return 0
    sleep 0.05
  done
  return 1
}

# Builds (or finds in its cache) the guest: the Debian cloud kernel and the initramfs.
require_guest() {
  command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (scripts/deps/sandbox.txt)"
  command -v umoci >/dev/null || skip "needs umoci"
  "$CUBE_ROOT/scripts/guest/build-initramfs" >"$TMP/guest-build.log" 2>&1 ||
    skip "cannot build the guest from Debian packages: $(tail -1 "$TMP/guest-build.log")"
  GUEST_DIR=$(tail -1 "$TMP/guest-build.log")
  tap_config 'socket = "'"$TMP/tap.sock"'"' 'pool_max = 0' \
    '[rootfs]' 'store = "'"$TMP/store"'"' 'cluster_ca = "none"' \
    '[logs]' 'root = "'"$TMP/logs"'"' \
    '[sched]' 'heartbeat_timeout = "1h"' \
    '[sandbox]' 'node = "n1"' 'run_dir = "'"$TMP/run"'"' "guest_dir = \"$GUEST_DIR\""
}

# Nothing of sandbox $1 is left on the node: journal, allocation, TAP (row and device), policy
# (row and nftables chain), data-path map entry, VMM process group ($2, when it had one).
assert_node_clean() {
  [ ! -e "$TMP/run/$1" ] || { ls -la "$TMP/run/$1"; cat "$TMP/run/$1/journal"; false; }
  run cube-sched alloc list -o json
  assert_output '[]'
  run tapx list -o json
  assert_output '[]'
  run kernel_taps
  assert_output ''
  run cube-egress-rules list -o json
  assert_output '[]'
  if inns nft list table inet cube_egress >/dev/null 2>&1; then
    run inns nft list table inet cube_egress
    refute_output --partial 'chain a_'
  fi
  local meta
  meta=$(ls -d "$BPF_DIR"/v*/tap_meta)
  run bpftool -j map dump pinned "$meta"
  assert_output '[]'
  if [ -n "${2:-}" ]; then
    ! kill -0 -- "-$2" 2>/dev/null
  fi
  [ "$(netns_names)" = "$NETNS_BEFORE" ]
}

@test "cube-sandbox: a microVM boots from an image, serves its mapped port, is held to its egress policy, and leaves nothing" {
  require_guest
  world_http 198.51.100.1
  world_http 198.51.100.3
  "$CUBE_ROOT/scripts/guest/build-web-image" "$TMP/img" "$GUEST_DIR/busybox"

  run sandbox -v -o json up "oci:$TMP/img:web" --name "$SB" --port 8080:20080 --policy "$TMP/policy.json"
  assert_success
  sandbox -o json list | jq -e --arg sb "$SB" '.[] | select(.sandbox == $sb and .status == "running" and .ports == "8080:20080")'
  local pg
  pg=$(cut -d: -f1 "$TMP/run/$SB/vmm.pid")

  # The world reaches the guest's httpd through the node's mapped port (the eBPF fast path).
  local i out=""
  for i in $(seq 240); do
    out=$(ip netns exec "$WORLD" curl -s -m 2 http://198.51.100.2:20080/) && break
    sleep 0.5
  done
  [ "$out" = "hello from the sandbox" ] || { cat "$TMP/logs/$SB/stdout" "$TMP/run/$SB/vmm.err"; false; }

  # From the guest: the allowed host answers, the other is refused (a TCP reset: "Connection refused").
  run ip netns exec "$WORLD" curl -s -m 20 "http://198.51.100.2:20080/cgi-bin/fetch?http://198.51.100.1:8000/hello.txt"
  assert_output "fetched http://198.51.100.1:8000/hello.txt: hello from the world"
  run ip netns exec "$WORLD" curl -s -m 20 "http://198.51.100.2:20080/cgi-bin/fetch?http://198.51.100.3:8000/hello.txt"
  assert_output --partial "refused http://198.51.100.3:8000/hello.txt: wget: can't connect"
  grep -q '"GET /hello.txt' "$TMP/http-198.51.100.1.log"
  ! grep -q '"GET /hello.txt' "$TMP/http-198.51.100.3.log"

  # The guest's console is the sandbox's CRI log.
  run sandbox logs "$SB" --all
  assert_output --partial "cube-guest: eth0 20:90:6f:fc:fc:fc 169.254.68.6/30 via 169.254.68.5"
  assert_output --partial "cube-guest: running /bin/busybox httpd"
  grep -qE '^[0-9T:.-]+Z stdout F cube-guest: running' "$TMP/logs/$SB/stdout"

  run sandbox down "$SB"
  assert_success
  assert_node_clean "$SB" "$pg"
  [ ! -e "$TMP/logs/$SB" ]
  # And once the node itself is torn down, no table and no pin is left either.
  tapx teardown --force >/dev/null
  ip netns exec "$NS" cube-egress-rules teardown >/dev/null
  run inns nft list tables
  assert_output ''
  [ -z "$(ls -A "$BPF_DIR" | grep -v '\.debug$')" ]
}

# The kill test needs no guest: a stand-in VMM that sleeps, and an initramfs of a few bytes.
fake_vmm() {
  printf '#!/bin/sh\nexec sleep 3600\n' >"$TMP/fake-vmm"
  chmod +x "$TMP/fake-vmm"
  echo "not an initramfs" >"$TMP/guest/initramfs.gz"
  tap_config 'socket = "'"$TMP/tap.sock"'"' 'pool_max = 0' \
    '[rootfs]' 'store = "'"$TMP/store"'"' 'cluster_ca = "none"' \
    '[logs]' 'root = "'"$TMP/logs"'"' \
    '[sched]' 'heartbeat_timeout = "1h"' \
    '[sandbox]' 'node = "n1"' 'run_dir = "'"$TMP/run"'"' "guest_dir = \"$TMP/guest\"" \
    "vmm = \"$TMP/fake-vmm {name} {disk} {initrd}\"" 'start_check = 0'
}

# slow_step TOOL VERB: a shim in $TMP/shim that runs `TOOL VERB …` half a second late (up_fails puts
# it first in PATH); the tool's other verbs run at once.
slow_step() {
  mkdir -p "$TMP/shim"
  printf '#!/bin/sh\ncase " $* " in *" %s "*) sleep 0.5 ;; esac\nexec %s "$@"\n' "$2" "$(command -v "$1")" >"$TMP/shim/$1"
  chmod +x "$TMP/shim/$1"
}
# up_fails STATUS ARG…: up (with the shims) fails with STATUS, and once it has returned no tool it
# started for the sandbox runs on. Its stdout and stderr are in $output. (Not through `run`, which
# would wait for every process holding the output pipe, and so for a step up had left running.)
up_fails() {
  local want=$1 rc=0
  shift
  PATH="$TMP/shim:$PATH" sandbox up "$@" >"$TMP/up.out" 2>&1 || rc=$?
  run pgrep -af -- "$SB"
  assert_output ''
  output=$(cat "$TMP/up.out")
  [ "$rc" -eq "$want" ] || { echo "up: exit $rc, not $want: $output"; false; }
}

@test "cube-sandbox: a step that fails undoes the steps before and beside it, and up passes on its status" {
  require_command umoci
  fake_vmm
  umoci init --layout "$TMP/img" && umoci new --image "$TMP/img:x"
  umoci config --image "$TMP/img:x" --config.cmd /bin/true >/dev/null
  # The TAP, the placement and the policy run beside each other: whichever fails, the others are
  # waited for and undone, and nothing of the sandbox is left. A shim makes the step beside the
  # failing one slow, so that an undo that did not wait for it would run before it is done.
  slow_step cube-sched place
  # The TAP: a port the data path refuses (cube-tap ensure, exit 2), with a slow placement beside it.
  up_fails 2 "oci:$TMP/img:x" --name "$SB" --port 70000 --policy "$TMP/policy.json"
  assert_output --partial "up $SB failed (exit 2); undoing its steps"
  assert_node_clean "$SB"
  # The placement: more CPU than the node has (cube-sched: no node fits, exit 4), with a slow policy.
  rm "$TMP/shim/cube-sched"
  slow_step cube-egress-rules set
  up_fails 4 "oci:$TMP/img:x" --name "$SB" --cpu 64 --port 80 --policy "$TMP/policy.json"
  assert_output --partial "up $SB failed (exit 4); undoing its steps"
  assert_node_clean "$SB"
  # The policy: a file that is not a policy (cube-egress-rules set, exit 2); the TAP and the
  # placement are undone.
  rm "$TMP/shim/cube-egress-rules"
  echo '{"allowOut": ["not an address"]}' >"$TMP/bad-policy.json"
  up_fails 2 "oci:$TMP/img:x" --name "$SB" --port 80 --policy "$TMP/bad-policy.json"
  assert_output --partial "cube-egress-rules: error:"
  assert_output --partial "up $SB failed (exit 2); undoing its steps"
  assert_node_clean "$SB"
  # The rootfs: a template that is not READY (exit 3), once the TAP, placement and policy are done.
  run sandbox up --template tpl-0000 --name "$SB" --port 80 --policy "$TMP/policy.json"
  assert_failure 3
  assert_output --partial "template tpl-0000 is not READY"
  assert_node_clean "$SB"
  # And the same up, with nothing wrong, runs.
  run sandbox -q up "oci:$TMP/img:x" --name "$SB" --port 80 --policy "$TMP/policy.json"
  assert_success
  sandbox down "$SB"
  assert_node_clean "$SB"
}

@test "cube-sandbox: up killed with SIGKILL at random points; reconcile leaves the node clean" {
  require_command umoci
  fake_vmm
  umoci init --layout "$TMP/img" && umoci new --image "$TMP/img:x"
  umoci config --image "$TMP/img:x" --config.cmd /bin/true >/dev/null
  # One whole up and down first: it builds the template (the later ups reuse it) and times an up.
  local t0 t1 total
  t0=$(date +%s%N)
  sandbox -q up "oci:$TMP/img:x" --name "$SB" --port 80 --policy "$TMP/policy.json" >/dev/null
  t1=$(date +%s%N)
  sandbox down "$SB"
  assert_node_clean "$SB"
  t0=$(date +%s%N)
  sandbox -q up "oci:$TMP/img:x" --name "$SB" --port 80 --policy "$TMP/policy.json" >/dev/null
  t1=$(date +%s%N)
  total=$(((t1 - t0) / 1000000))
  sandbox down "$SB"

  local round delay pid pg
  # Round k kills at a random point of the k-th quarter of an up, so every step gets its turn.
  for round in 1 2 3 4; do
    delay=$(((round - 1) * total / 4 + RANDOM % (total / 4)))
    # A session of its own (setsid does not fork in a background job), so that the kill reaches up
    # and the tool it is running, as a crash of the caller's session would; not the VMM's session.
    setsid ip netns exec "$NS" "$SANDBOX_SH" -q up "oci:$TMP/img:x" --name "$SB" --port 80 \
      --policy "$TMP/policy.json" >/dev/null 2>&1 </dev/null &
    pid=$!
    sleep "$(awk -v d="$delay" 'BEGIN { print d / 1000 }')"
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "# round $round: killed after $delay of $total ms; journal: $(tr '\n' ' ' <"$TMP/run/$SB/journal" 2>/dev/null)" >&3
    pg=$(cut -d: -f1 "$TMP/run/$SB/vmm.pid" 2>/dev/null || true)
    run sandbox -o json reconcile
    assert_success
    # Killed after up had finished: the sandbox runs, reconcile keeps it, down takes it away.
    if grep -q '^running$' "$TMP/run/$SB/journal" 2>/dev/null; then
      echo "$output" | jq -e --arg sb "$SB" '.[] | select(.sandbox == $sb and .action == "keep")'
      sandbox down "$SB"
    fi
    assert_node_clean "$SB" "$pg"
  done

  # And once exactly where a VMM may be left with no journal line: right after vmm-start.
  setsid ip netns exec "$NS" "$SANDBOX_SH" -q up "oci:$TMP/img:x" --name "$SB" --port 80 \
    >/dev/null 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 500); do
    grep -q '^vmm-start$' "$TMP/run/$SB/journal" 2>/dev/null && break
    sleep 0.01
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "# at vmm-start: journal: $(tr '\n' ' ' <"$TMP/run/$SB/journal")" >&3
  for _ in $(seq 100); do [ -s "$TMP/run/$SB/vmm.pid" ] && break; sleep 0.01; done
  pg=$(cut -d: -f1 "$TMP/run/$SB/vmm.pid" 2>/dev/null || true)
  run sandbox -o json reconcile
  assert_success
  assert_node_clean "$SB" "$pg"
}
