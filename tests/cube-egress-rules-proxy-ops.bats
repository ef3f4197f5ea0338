#!/usr/bin/env bats
# cube-egress-rules serve, the process around the connections: limits (ClientHello size and time,
# idle relays, connections per sandbox) against hostile clients while another sandbox is served,
# policy changes on the next connection, drain on SIGTERM, the audit file (SIGHUP, rotation), the
# health endpoint, sd_notify and the confinement (capabilities, seccomp).
#
# The network is tests/proxy-helpers.bash's, with one sandbox namespace holding two sandbox
# addresses (sb-1 and sb-2).
load proxy-helpers

SB1=10.77.0.2
SB2=10.77.0.3

setup() {
  proxy_net o "$SB1" "$SB2"
  proxy_hosts "$SERVER pinned.test denied.test"
  world_cert pinned.test denied.test
  echo_server 0.0.0.0 443 "$TMP/server.crt" "$TMP/server.key"
  bind_sandbox sb-1 "$SB1" 2
  bind_sandbox sb-2 "$SB2" 3
  ALLOW='{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  policy sb-1 "$ALLOW"
  policy sb-2 "$ALLOW"
}

teardown() { proxy_teardown; }

# egress_config KEY = VALUE lines: the [egress] table of the config file.
egress_config() {
  { echo '[egress]'; printf '%s\n' "$@"; } >"$CUBE_CONFIG"
}

policy() { printf '%s' "$2" | cube-egress-rules set "$1" --file - >/dev/null; }

# fetch SRC NAME: curl from the sandbox address SRC to NAME at the server, through the proxy.
fetch() {
  ip netns exec "$SB" curl -sS --max-time 5 --interface "$1" --cacert "$TMP/world-ca.crt" \
    --resolve "$2:443:$SERVER" "https://$2/hello" "${@:3}"
}

hostile() { ip netns exec "$SB" python3 "$CUBE_ROOT/tests/proxy/hostile.py" "$@"; }

# The audit lines whose security reason is REASON, waiting up to 5 s for at least one.
security_events() {
  for _ in $(seq 100); do
    grep -q "\"reason\":\"$1\"" "$AUDIT" 2>/dev/null && break
    sleep 0.05
  done
  jq -c "select(.security.reason == \"$1\")" "$AUDIT"
}

@test "serve limits: garbage, a ClientHello past 16 KiB and a slowloris hello are cut; the other sandbox is served" {
  egress_config 'hello_timeout = "1s"'
  start_proxy
  # Plain HTTP on the TLS port.
  ip netns exec "$SB" bash -c "exec 3<>/dev/tcp/$SERVER/443; printf 'GET / HTTP/1.1\r\n\r\n' >&3; cat <&3 >/dev/null" || true
  [ "$(security_events client_hello_not_tls | jq -r .sandbox.policy_id)" = sb-1 ]
  # A hello announcing 20 KiB: refused as soon as its length is read, without waiting for the rest.
  run hostile bighello "$SB1" "$SERVER" 443 20000
  assert_success
  [ "$(jq -r .seconds <<<"$output")" \< 1 ]
  [ "$(security_events client_hello_too_large | wc -l)" -eq 1 ]
  # One byte every 0.3 s: cut at the hello timeout (1 s), while sb-2 is served meanwhile.
  hostile slowloris "$SB1" "$SERVER" 443 0.3 >"$TMP/slow.json" &
  slow=$!
  run fetch "$SB2" pinned.test
  assert_success
  wait "$slow"
  seconds=$(jq -r .seconds "$TMP/slow.json")
  awk -v s="$seconds" 'BEGIN { exit !(s >= 0.9 && s < 3) }'
  line=$(security_events client_hello_timeout)
  [ "$(jq -r .event <<<"$line")" = security_event ]
  [ "$(jq -r .policy.decision <<<"$line")" = deny ]
  # The sandbox itself is served again once it behaves.
  run fetch "$SB1" pinned.test
  assert_success
}

@test "serve limits: a relayed connection that stays idle is cut at idle_timeout" {
  egress_config 'idle_timeout = "1s"'
  start_proxy
  run hostile idle "$SB1" pinned.test "$SERVER" "$TMP/world-ca.crt"
  assert_success
  seconds=$(jq -r .seconds <<<"$output")
  awk -v s="$seconds" 'BEGIN { exit !(s >= 0.9 && s < 3) }'
  line=$(security_events idle_timeout)
  [ "$(jq -r .policy.matched_rule <<<"$line")" = pinned ]
  # The relay's own line follows, with the bytes of the handshake.
  for _ in $(seq 50); do grep -q tls_passthrough "$AUDIT" && break; sleep 0.05; done
  [ "$(jq -r 'select(.event == "tls_passthrough") | .relay.bytes_down' "$AUDIT")" -gt 500 ]
  # A busy connection is not idle: a download slower than the timeout is not cut.
  run fetch "$SB1" pinned.test
  assert_success
}

@test "serve limits: 10,000 idle connections from one sandbox are capped and timed out; the other is served" {
  egress_config 'max_conns_per_sandbox = 100' 'hello_timeout = "3s"'
  start_proxy
  hostile hold "$SB1" "$SERVER" 443 10000 6 >"$TMP/hold.json" &
  holder=$!
  # While the flood is held, sb-2's requests go through, each within a second (curl's own count,
  # from its start to the last byte: a dropped SYN would cost a 1 s retransmission).
  sleep 1
  for i in 1 2 3 4 5; do
    run fetch "$SB2" pinned.test -o /dev/null -w '%{time_connect} %{time_appconnect} %{time_total}\n'
    assert_success
    awk -v t="${output##* }" 'BEGIN { exit !(t < 1) }'
    sleep 0.2
  done
  wait "$holder"
  # Every connection was accepted by the kernel; all but the cap were closed at once, the cap's
  # own at the hello timeout.
  [ "$(jq -r .connected "$TMP/hold.json")" -eq 10000 ]
  [ "$(jq -r .closed "$TMP/hold.json")" -eq 10000 ]
  [ "$(jq -r .closed_early "$TMP/hold.json")" -ge 9800 ]
  # A few events for the flood (at most one a second), one per timed-out hello.
  n=$(security_events too_many_connections | wc -l)
  [ "$n" -ge 1 ] && [ "$n" -le 10 ]
  [ "$(security_events too_many_connections | head -1 | jq -r .sandbox.policy_id)" = sb-1 ]
  [ "$(jq -c 'select(.security.reason == "client_hello_timeout")' "$AUDIT" | wc -l)" -eq 100 ]
  # The slots are free again.
  run fetch "$SB1" pinned.test
  assert_success
}

@test "serve: a policy change takes effect on the next connection" {
  start_proxy
  DENY='{"rules": [{"name": "no", "match": {"sni": "pinned.test"}, "action": {"allow": false}}]}'
  for i in 1 2 3; do
    policy sb-1 "$DENY"
    sleep 0.2  # twice the 100 ms the proxy promises, for a loaded test machine
    run fetch "$SB1" pinned.test
    assert_failure
    [[ "$output" == *"alert access denied"* ]]
    policy sb-1 "$ALLOW"
    sleep 0.2
    run fetch "$SB1" pinned.test
    assert_success
  done
  # sb-2's policy was never touched and never recompiled: it decides as before.
  run fetch "$SB2" pinned.test
  assert_success
}

# Waits up to 10 s for process PID to end; prints how many ms it took.
wait_exit() {
  local start=$(date +%s%N)
  for _ in $(seq 200); do
    kill -0 "$1" 2>/dev/null || { echo $(( ($(date +%s%N) - start) / 1000000 )); return 0; }
    sleep 0.05
  done
  return 1
}

@test "serve: SIGTERM lets open connections finish, cuts them at --drain-timeout, and takes no new one" {
  start_proxy --drain-timeout 3s
  # A connection in the middle of its exchange finishes after SIGTERM.
  hostile slowget "$SB1" pinned.test "$SERVER" "$TMP/world-ca.crt" 1 >"$TMP/get.json" &
  getter=$!
  for _ in $(seq 100); do [ -s "$TMP/get.json" ] && break; sleep 0.05; done
  kill -TERM "$PROXY"
  # No new connection is taken: the listener is closed, so TPROXY finds no socket.
  run fetch "$SB2" pinned.test --max-time 1
  assert_failure
  wait "$getter"
  [ "$(tail -1 "$TMP/get.json" | jq -r .status)" = 200 ]
  [ "$(tail -1 "$TMP/get.json" | jq -r .path)" = /hello ]
  # It ended as soon as the last connection did, well before the drain timeout.
  ms=$(wait_exit "$PROXY")
  [ "$ms" -lt 2500 ]

  # An idle connection is cut at the drain timeout.
  start_proxy --drain-timeout 1s
  hostile idle "$SB1" pinned.test "$SERVER" "$TMP/world-ca.crt" >"$TMP/idle.json" &
  idler=$!
  for _ in $(seq 100); do
    [ "$(ip netns exec "$NODE" ss -Htn state established "sport = :443" | wc -l)" -ge 1 ] && break
    sleep 0.05
  done
  kill -TERM "$PROXY"
  ms=$(wait_exit "$PROXY")
  [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ]
  wait "$idler"
  grep -q "drain timeout: 1 connections cut" "$TMP/proxy.err"
}

@test "serve: SIGHUP reopens the audit log (logrotate's move); past audit_max_size it rotates itself" {
  egress_config 'audit_max_size = "2K"'
  start_proxy
  run fetch "$SB1" pinned.test
  assert_success
  for _ in $(seq 100); do [ -s "$AUDIT" ] && break; sleep 0.05; done
  mv "$AUDIT" "$AUDIT.moved"
  kill -HUP "$PROXY"
  for _ in $(seq 100); do [ -e "$AUDIT" ] && break; sleep 0.05; done
  [ "$(stat -c %a "$AUDIT")" = 640 ]
  run fetch "$SB2" pinned.test
  assert_success
  for _ in $(seq 100); do [ -s "$AUDIT" ] && break; sleep 0.05; done
  [ "$(jq -r .sandbox.policy_id "$AUDIT")" = sb-2 ]
  [ "$(jq -r .sandbox.policy_id "$AUDIT.moved")" = sb-1 ]
  # Lines of ~500 bytes: the 2 KiB cap rotates to FILE.1 every four or five; no line is split.
  for i in $(seq 12); do fetch "$SB1" pinned.test >/dev/null; done
  for _ in $(seq 100); do [ "$(cat "$AUDIT" "$AUDIT.1" 2>/dev/null | wc -l)" -ge 8 ] && break; sleep 0.05; done
  [ -s "$AUDIT.1" ]
  [ "$(stat -c %a "$AUDIT.1")" = 640 ]
  [ "$(stat -c %s "$AUDIT")" -lt 2048 ]
  jq -e . "$AUDIT" "$AUDIT.1" >/dev/null
  [ ! -e "$AUDIT.2" ]
}

@test "serve --health: GET /healthz on loopback; another address is refused" {
  start_proxy --health 127.0.0.1:9901
  wait_listen "$NODE" 9901
  run ip netns exec "$NODE" curl -sS -w '\n%{http_code}' http://127.0.0.1:9901/healthz
  assert_success
  [ "${lines[1]}" = 200 ]
  body=${lines[0]}
  [ "$(jq -r .status <<<"$body")" = ok ]
  [ "$(jq -r .policies <<<"$body")" = 2 ]
  [ "$(jq -r .connections <<<"$body")" = 0 ]
  [ "$(jq -r .snapshot_age_ms <<<"$body")" -ge 0 ]
  [ "$(jq -r .version <<<"$body")" = "$(cube-egress-rules --version | awk '{print $2}')" ]
  # An open connection is counted.
  hostile idle "$SB1" pinned.test "$SERVER" "$TMP/world-ca.crt" >/dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ "$(ip netns exec "$NODE" curl -s http://127.0.0.1:9901/healthz | jq -r .connections)" = 1 ] && break
    sleep 0.05
  done
  [ "$(ip netns exec "$NODE" curl -s http://127.0.0.1:9901/healthz | jq -r .connections)" = 1 ]
  run ip netns exec "$NODE" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9901/other
  [ "$output" = 404 ]
  run ip netns exec "$NODE" curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9901/healthz
  [ "$output" = 405 ]
  # Not loopback: a usage error before anything is bound.
  run ip netns exec "$NODE" cube-egress-rules serve --listen "$NODE_ADDR" --audit-log "$AUDIT" --health "$NODE_ADDR:9902"
  [ "$status" -eq 2 ]
  [[ "$output" == *"not a loopback address"* ]]
  run cube-egress-rules serve --listen "$NODE_ADDR" --health 127.0.0.1
  [ "$status" -eq 2 ]
}

@test "serve: sd_notify READY, WATCHDOG and STOPPING on NOTIFY_SOCKET; capabilities dropped and seccomp on" {
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
out = open(sys.argv[2], "a")
while True:
    out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
    out.flush()
' "$TMP/notify.sock" "$TMP/notify.log" >"$TMP/listener.out" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -S "$TMP/notify.sock" ] && break; sleep 0.05; done
  NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=400000 start_proxy
  for _ in $(seq 100); do [ "$(grep -c WATCHDOG=1 "$TMP/notify.log" 2>/dev/null)" -ge 3 ] && break; sleep 0.05; done
  grep -q '^READY=1 STATUS=serving 2 policies' "$TMP/notify.log"
  [ "$(grep -c WATCHDOG=1 "$TMP/notify.log")" -ge 3 ]
  # READY comes before the first ping.
  [ "$(head -1 "$TMP/notify.log" | cut -d' ' -f1)" = READY=1 ]
  # Running as uid 0 with no capability left, under a seccomp filter, unable to gain any back.
  status=/proc/$PROXY/status
  [ "$(awk '/^Uid:/ {print $2}' "$status")" = 0 ]
  for set in CapEff CapPrm CapInh CapAmb CapBnd; do
    [ "$(awk -v s="$set:" '$1 == s {print $2}' "$status")" = 0000000000000000 ] || { grep Cap "$status"; false; }
  done
  # A sanitizer build (make SAN=1) loads no filter: its runtimes need calls the filter refuses
  # (common/seccomp.cpp); the release build is where the confinement is tested.
  if ! ldd "$CUBE_BUILD/bin/cube-egress-rules" | grep -q libasan; then
    [ "$(awk '/^Seccomp:/ {print $2}' "$status")" = 2 ]
    [ "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" = 1 ]
  fi
  # Confined, it still serves: the relay, the resolver, the audit log.
  run fetch "$SB1" pinned.test
  assert_success
  kill -TERM "$PROXY"
  wait_exit "$PROXY"
  grep -q '^STOPPING=1' "$TMP/notify.log"
  ! grep -qi "operation not permitted" "$TMP/proxy.err"
  # --no-seccomp leaves the filter off (debugging); the capabilities are dropped all the same.
  start_proxy --no-seccomp
  for _ in $(seq 100); do
    [ "$(awk '/^CapEff:/ {print $2}' "/proc/$PROXY/status")" = 0000000000000000 ] && break
    sleep 0.05
  done
  [ "$(awk '/^Seccomp:/ {print $2}' "/proc/$PROXY/status")" = 0 ]
  [ "$(awk '/^CapEff:/ {print $2}' "/proc/$PROXY/status")" = 0000000000000000 ]
}

@test "systemd unit and logrotate snippet: Type=notify with a watchdog, SIGHUP after rotation, installed by make install" {
  unit="$CUBE_ROOT/scripts/systemd/cube-egress-proxy.service"
  grep -q '^Type=notify$' "$unit"
  grep -q '^WatchdogSec=' "$unit"
  grep -q '^ExecStart=/usr/local/bin/cube-egress-rules serve --health 127.0.0.1:' "$unit"
  grep -q '^ExecReload=/bin/kill -HUP $MAINPID$' "$unit"
  grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$unit"
  snippet="$CUBE_ROOT/scripts/logrotate/cube-egress-proxy"
  grep -q "^$(cube-egress-rules config -o json | jq -r '.[] | select(.key == "egress.audit_log") | .value') {" "$snippet"
  grep -q 'signal=HUP cube-egress-proxy.service' "$snippet"
  run make -C "$CUBE_ROOT" --no-print-directory -n install DESTDIR=/nonexistent
  [[ "$output" == *"scripts/logrotate/* /nonexistent/etc/logrotate.d/"* ]]
  if command -v logrotate >/dev/null; then
    run logrotate -d -s "$TMP/logrotate.state" "$snippet"
    assert_success
    [[ "$output" != *error* ]]
  fi
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
  run systemd-analyze verify --man=no "$unit" "$CUBE_ROOT/scripts/systemd/cube-egress-redirect.service"
  [ -z "$(grep -v 'cube-egress-rules is not executable' <<<"$output")" ] || fail "$output"
}
