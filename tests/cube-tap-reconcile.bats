#!/usr/bin/env bats
# cube-tap reconcile: after kill -9 at random points, after hand-made damage, and quarantine.
load tap-helpers

setup() {
  tap_setup
  tap_node
}
teardown() { tap_teardown; }

agree() {
  [ "$(state_taps)" = "$(kernel_taps)" ] || return 1
  [ "$(tapx reconcile --dry-run -o json | jq -r '[.[] | select(.action != "keep")] | length')" = 0 ]
}

@test "kill -9 of ensure and release at random points, then reconcile: state and kernel agree" {
  for round in $(seq 12); do
    sb="sb$round"
    ip netns exec "$NS" cube-tap ensure "$sb" --port 80 >/dev/null 2>&1 &
    victim=$!
    sleep "$(printf '0.%03d' $((RANDOM % 12)))"
    kill -9 "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
    if [ $((round % 3)) = 0 ]; then
      tapx ensure "x$round" >/dev/null
      ip netns exec "$NS" cube-tap release "x$round" --destroy >/dev/null 2>&1 &
      victim=$!
      sleep "$(printf '0.%03d' $((RANDOM % 12)))"
      kill -9 "$victim" 2>/dev/null || true
      wait "$victim" 2>/dev/null || true
    fi
  done
  tapx list -o json | jq -c '[.[] | .state] | group_by(.) | map({(.[0]): length}) | add' >&3 || true
  run --separate-stderr tapx reconcile -o json
  assert_success
  agree
  # No row is left mid-change, and nothing of a sandbox whose ensure died is half there: either
  # it is whole (in use with its port) or it is gone and its TAP pooled.
  [ "$(tapx list -o json | jq -r '[.[] | select(.state == "creating" or .state == "releasing")] | length')" = 0 ]
  for sb in $(tapx list -o json | jq -r '.[] | select(.state == "in_use") | .sandbox'); do
    [ "$(tapx ports "$sb" -o json | jq length)" -ge 0 ]
  done
  # An ensure of a sandbox whose first ensure was killed completes (taking over if need be).
  run --separate-stderr tapx ensure sb1 -o json
  assert_success
  [ "$(jq -r .state <<<"$output")" = in_use ]
  agree
}

@test "reconcile purges a row whose TAP vanished, adopts an orphan TAP, repairs a lost route and neighbour" {
  tapx ensure sb1 --port 80 >/dev/null
  tapx ensure sb2 >/dev/null
  tapx ensure sb3 >/dev/null
  inns ip link del zc0a80002                            # sb1's TAP is gone
  inns ip tuntap add zc0a80009 mode tap vnet_hdr        # a TAP of ours without a row
  inns ip tuntap add z0b000002 mode tap                 # ours by name, outside the CIDR
  inns ip route del 192.168.0.3/32                      # sb2 lost its route
  inns ip neigh del 192.168.0.4 dev zc0a80004           # sb3 lost its neighbour
  inns ip link set zc0a80004 mtu 1200
  run --separate-stderr tapx reconcile --dry-run -o json
  assert_success
  plan="$output"
  [ "$(jq -r '.[] | select(.tap=="zc0a80002") | .action' <<<"$plan")" = purge ]
  [ "$(jq -r '.[] | select(.tap=="zc0a80003") | .action' <<<"$plan")" = repair ]
  [ "$(jq -r '.[] | select(.tap=="zc0a80004") | .action' <<<"$plan")" = repair ]
  [[ "$(jq -r '.[] | select(.tap=="zc0a80004") | .reason' <<<"$plan")" == *"MTU 1200"*"neighbour"* ]]
  [ "$(jq -r '.[] | select(.tap=="zc0a80009") | .action' <<<"$plan")" = adopt ]
  [ "$(jq -r '.[] | select(.tap=="z0b000002") | .action' <<<"$plan")" = purge ]
  # --dry-run changed nothing.
  [ -z "$(inns ip -j route show 192.168.0.3/32 | jq -r '.[]?')" ]
  run --separate-stderr tapx reconcile
  assert_success
  agree
  run tapx show sb1
  assert_failure 3
  [ "$(tapx ports -o json)" = "[]" ] # sb1's port went with it
  [ "$(inns ip -j route show 192.168.0.3/32 | jq -r '.[0].dev')" = zc0a80003 ]
  [ "$(inns ip -j neigh show 192.168.0.4 dev zc0a80004 | jq -r '.[0].lladdr')" = 20:90:6f:fc:fc:fc ]
  [ "$(inns ip -j link show zc0a80004 | jq -r '.[0].mtu')" = 1500 ]
  [ "$(tapx list -o json | jq -r '.[] | select(.tap=="zc0a80009") | .state')" = pooled ]
  [ "$(inns ip -j -d link show zc0a80009 | jq -r '.[0].linkinfo.info_data.persist')" = true ]
  ! inns ip link show z0b000002 2>/dev/null
}

@test "a TAP that fails to repair three times is quarantined and its address never reused" {
  tapx ensure sb1 >/dev/null
  # The device under the TAP's name is now a veth, and the recorded MTU is one no link takes:
  # every repair fails.
  inns ip link del zc0a80002
  inns ip link add zc0a80002 type veth peer name zpeer
  inns ip link set zc0a80002 mtu 1500
  sqlite3 "$CUBE_STATE" "UPDATE tap_node SET mtu = 70000"
  for i in 1 2 3; do
    run --separate-stderr tapx reconcile -o json
    assert_failure 1
  done
  [ "$(tapx list -o json | jq -r '.[0].state')" = quarantined ]
  [ "$(tapx list -o json | jq -r '.[0].failures')" = 3 ]
  sqlite3 "$CUBE_STATE" "UPDATE tap_node SET mtu = 1500"
  # Quarantined: reconcile leaves it alone, and its address is not handed out again.
  run --separate-stderr tapx reconcile -o json
  assert_success
  [ "$(tapx ensure sb9 -o json | jq -r .address)" = 192.168.0.3 ]
}
