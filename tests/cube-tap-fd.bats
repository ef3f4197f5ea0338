#!/usr/bin/env bats
# cube-tap serve and get-fd: the TAP fd over a Unix socket, frames both ways through it, the three
# tiers (the hot path's system calls under strace), and hostile clients. Private namespaces only.
load tap-helpers

FRAME="$BATS_TEST_DIRNAME/tap-frame.py"

setup() {
  tap_setup
  require_command python3
  tap_node
  tapx ensure sb1 >/dev/null
}
teardown() { tap_teardown; }

@test "get-fd: the child's frame appears on the TAP, and the node's frame reaches the child" {
  require_command tcpdump
  start_server
  inns timeout 10 tcpdump -i zc0a80002 -c 1 -n -e 'ether proto 0x88b5' -l >"$TMP/cap" 2>"$TMP/cap.err" &
  PIDS+=($!)
  dump=$!
  for i in $(seq 100); do grep -q 'listening on' "$TMP/cap.err" && break; sleep 0.05; done
  run --separate-stderr tapx get-fd sb1 --socket "$SOCK" --exec "$FRAME" write
  assert_success
  assert_output "wrote 60"
  wait "$dump"
  grep -q '20:90:6f:fc:fc:fc > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5)' "$TMP/cap"
  # The reverse: the node pings the sandbox address; the child reads the frame from fd 3.
  tapx get-fd sb1 --socket "$SOCK" --exec "$FRAME" read 5 >"$TMP/got" &
  reader=$!
  inns ping -c 8 -i 0.2 -W 1 192.168.0.2 >/dev/null || true
  wait "$reader"
  [ "$(cat "$TMP/got")" = "ipv4 20:90:6f:cf:cf:cf -> 20:90:6f:fc:fc:fc" ]
  # The environment the child gets.
  run tapx get-fd sb1 --socket "$SOCK" --exec sh -c 'echo "$CUBE_TAP_FD $CUBE_TAP_IFINDEX"; readlink /proc/self/fd/3'
  assert_success
  assert_line "3 $(tapx show sb1 -o json | jq -r .ifindex)"
  assert_line "/dev/net/tun"
}

@test "three tiers: recovery first, then fast; a TAP recycled through the pool takes the hot path, only open + two ioctls" {
  require_command strace
  start_server -v
  tapx get-fd sb1 --socket "$SOCK" --exec true
  grep -q 'fd for sandbox sb1: recovery path' "$TMP/serve.log"
  tapx get-fd sb1 --socket "$SOCK" --exec true
  grep -q 'fd for sandbox sb1: fast path' "$TMP/serve.log"
  tapx release sb1 >/dev/null
  [ "$(tapx ensure sb2 -o json | jq -r '"\(.origin) \(.tap)"')" = "pooled zc0a80002" ]
  strace -f -p "$SERVER" -o "$TMP/hot.strace" 2>"$TMP/strace.err" &
  PIDS+=($!)
  tracer=$!
  for i in $(seq 100); do grep -q 'attached' "$TMP/strace.err" && break; sleep 0.05; done
  tapx get-fd sb2 --socket "$SOCK" --exec true
  kill "$tracer"
  wait "$tracer" || true
  grep -q 'fd for sandbox sb2: hot path' "$TMP/serve.log"
  [ "$(grep -c 'open.*"/dev/net/tun"' "$TMP/hot.strace")" = 1 ]
  [ "$(grep -c 'TUNSETIFF' "$TMP/hot.strace")" = 1 ]
  [ "$(grep -c 'TUNGETVNETHDRSZ' "$TMP/hot.strace")" = 1 ]
  ! grep -E 'AF_NETLINK|TUNSETOFFLOAD|SIOCETHTOOL|TUNSETPERSIST' "$TMP/hot.strace"
  grep -q 'SCM_RIGHTS' "$TMP/hot.strace"
  # A TAP another process holds cannot be handed out: a new server has no fd, and TUNSETIFF is busy.
  tapx get-fd sb2 --socket "$SOCK" --exec sleep 3 &
  holder=$!
  sleep 0.3
  kill "$SERVER"
  wait "$SERVER" || true
  start_server
  run --separate-stderr tapx get-fd sb2 --socket "$SOCK" --exec true
  assert_failure 4
  [[ "$stderr" == *"tap fd unavailable for sandbox \"sb2\": tap zc0a80002 is currently held by another process"* ]]
  wait "$holder"
  # Once free, recovery hands it over again.
  run tapx get-fd sb2 --socket "$SOCK" --exec true
  assert_success
}

@test "recovery rebuilds a TAP that vanished under the server" {
  start_server
  inns ip link del zc0a80002
  run --separate-stderr tapx get-fd sb1 --socket "$SOCK" --exec true
  assert_success
  [ "$(kernel_taps)" = zc0a80002 ]
  [ "$(inns ip -j route show 192.168.0.2/32 | jq -r '.[0].dev')" = zc0a80002 ]
  [ "$(inns ip -j -d link show zc0a80002 | jq -r '.[0].linkinfo.info_data.persist')" = true ]
}

@test "bad requests: unknown sandbox 3/1002, wrong TAP name, not JSON, over 4 KiB, slow clients never stall others" {
  start_server
  run --separate-stderr tapx get-fd ghost --socket "$SOCK" --exec true
  assert_failure 3
  [[ "$stderr" == *'sandbox "ghost" not found'* ]]
  run --separate-stderr tapx get-fd sb1 --socket "$SOCK" --name zc0a80009 --exec true
  assert_failure 2
  [[ "$stderr" == *'tap name mismatch: want "zc0a80002" got "zc0a80009"'* ]]
  run inns "$FRAME" ask "$SOCK" '{"sandboxId": "ghost"}'
  assert_output --partial '"errCode":"1002"'
  assert_output --partial 'nofd'
  run inns "$FRAME" ask "$SOCK" 'not json at all}'
  assert_output '{"errCode":"1001","errMsg":"Parse json failed"} nofd'
  run inns "$FRAME" ask "$SOCK" "{\"sandboxId\": \"$(head -c 5000 /dev/zero | tr '\0' a)\"}"
  assert_output --partial '"errCode":"1001"'
  run inns "$FRAME" ask "$SOCK" '{"sandboxId": "../../etc"}'
  assert_output --partial 'invalid sandbox ID'
  # Ten silent clients: each is cut off after the 1 s request timeout, and meanwhile a real
  # request is answered at once.
  slow=()
  for i in $(seq 10); do
    inns "$FRAME" ask "$SOCK" "" >"$TMP/slow.$i" &
    slow+=($!)
  done
  sleep 0.5
  ASK_TIMING=1 run inns "$FRAME" ask "$SOCK" '{"sandboxId": "sb1", "name": ""}'
  assert_line --regexp '^\{"errCode":"0","errMsg":"Success","ifindex":[0-9]+\} fd$'
  elapsed=$(sed -n 's/^elapsed_ms //p' <<<"$output")
  [ "$elapsed" -lt 500 ]
  for p in "${slow[@]}"; do wait "$p"; done
  for i in $(seq 10); do grep -q '"errCode":"1001".*timed out' "$TMP/slow.$i"; done
  # The server still serves.
  run tapx get-fd sb1 --socket "$SOCK" --exec true
  assert_success
  kill -0 "$SERVER"
}

@test "peers are checked with SO_PEERCRED against allowed_uids and allowed_gids" {
  require_command setpriv
  start_server
  chmod 0666 "$SOCK"
  [ "$(stat -c %a "$TMP")" != 0 ] && chmod 0755 "$TMP"
  # The checkout may sit below a directory only root can enter (a mktemp clone): run a copy.
  install -m 0755 "$FRAME" "$TMP/tap-frame.py"
  run inns setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/tap-frame.py" ask "$SOCK" '{"sandboxId": "sb1"}'
  assert_output --partial '"errCode":"1002","errMsg":"permission denied: uid 65534 gid 65534'
  assert_output --partial 'nofd'
  kill "$SERVER"
  wait "$SERVER" # SIGTERM is a clean stop: status 0
  tap_config 'allowed_gids = ["65534"]'
  start_server
  chmod 0666 "$SOCK"
  run inns setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/tap-frame.py" ask "$SOCK" '{"sandboxId": "sb1"}'
  assert_output --partial '"errCode":"0"'
  assert_output --partial ' fd'
}

@test "the socket is created 0660 and a stale one is replaced" {
  start_server
  [ "$(stat -c %a "$SOCK")" = 660 ]
  kill -9 "$SERVER"
  wait "$SERVER" || true
  [ -S "$SOCK" ]
  start_server
  run tapx get-fd sb1 --socket "$SOCK" --exec true
  assert_success
  run --separate-stderr tapx get-fd sb1 --socket "$TMP/none.sock" --exec true
  assert_failure 3
  run --separate-stderr tapx get-fd sb1 --socket "$SOCK"
  assert_failure 2
}
