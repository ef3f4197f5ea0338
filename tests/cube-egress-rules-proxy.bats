#!/usr/bin/env bats
# cube-egress-rules serve, the TLS port, with real TLS: a sandbox namespace whose port-443
# connections reach the proxy in a node namespace, and HTTPS servers (Python http.server + ssl,
# certificates from a test CA) in a world namespace.
#
# Until the TPROXY redirect of `cube-egress-rules redirect up` lands, each test installs a plain
# nft tproxy rule of its own (table inet cube_test, in the node namespace) with the policy routing
# TPROXY needs; the proxy under test does not know the difference. The sandbox is bound to its
# address by a row in cube-tap's taps table written with sqlite3 (columns documented in
# cube-state(5)), as cube-tap ensure would leave it.
load helpers

SB_ADDR=10.77.0.2
NODE_ADDR=10.77.0.1
SERVER=198.51.100.10
OTHER=198.51.100.11

setup() {
  require_root
  for c in ip nft python3 curl openssl sqlite3 ss; do require_command "$c"; done
  cube_setup
  ID="cube-p-$$-${BATS_TEST_NUMBER}"
  SB="$ID-s" NODE="$ID-n" WORLD="$ID-w"
  PIDS=()
  for n in "$SB" "$NODE" "$WORLD"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
  done
  ip -n "$NODE" link add n0 type veth peer name s0 netns "$SB"
  ip -n "$NODE" link add n1 type veth peer name w0 netns "$WORLD"
  ip -n "$NODE" addr add "$NODE_ADDR/24" dev n0
  ip -n "$NODE" addr add 198.51.100.1/24 dev n1
  ip -n "$SB" addr add "$SB_ADDR/24" dev s0
  ip -n "$WORLD" addr add "$SERVER/24" dev w0
  ip -n "$WORLD" addr add "$OTHER/24" dev w0
  for l in "$NODE n0" "$NODE n1" "$SB s0" "$WORLD w0"; do ip -n ${l% *} link set ${l#* } up; done
  ip -n "$SB" route add default via "$NODE_ADDR"
  ip -n "$WORLD" route add default via 198.51.100.1
  ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
  # TPROXY as the redirect will do it: marked packets are delivered locally, to the proxy.
  ip -n "$NODE" rule add fwmark 0x1 lookup 100
  ip -n "$NODE" route add local 0.0.0.0/0 dev lo table 100
  ip netns exec "$NODE" nft -f - <<NFT
table inet cube_test {
  chain pre {
    type filter hook prerouting priority mangle;
    ip saddr $SB_ADDR tcp dport 443 tproxy ip to $NODE_ADDR:8443 meta mark set 1 accept
    ip saddr $SB_ADDR tcp dport 443 drop
  }
}
NFT
  # The names the proxy resolves (its check that a name's destination is an address of the name):
  # ip netns exec binds /etc/netns/NAME/hosts over /etc/hosts for the proxy alone.
  mkdir -p "/etc/netns/$NODE"
  printf '%s pinned.test denied.test api.test other.test\n' "$SERVER" >"/etc/netns/$NODE/hosts"
  make_certs
  ip netns exec "$WORLD" python3 "$CUBE_ROOT/tests/proxy/echo_server.py" 0.0.0.0 443 "$TMP/server.crt" \
    "$TMP/server.key" &
  PIDS+=($!)
  wait_listen "$WORLD" 443
  # A state file with the sandbox's TAP row, and a CA for the proxy (not used until decryption).
  cube-egress-rules list >/dev/null
  bind_sandbox sb-1 "$SB_ADDR"
  AUDIT="$TMP/audit.jsonl"
}

teardown() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for n in "${SB:-}" "${NODE:-}" "${WORLD:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null; done
  [ -n "${NODE:-}" ] && rm -rf "/etc/netns/$NODE"
  cube_teardown
}

make_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/world-ca.key" \
    -out "$TMP/world-ca.crt" -subj /CN=world-test-ca -days 2 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/server.key" -out "$TMP/server.csr" \
    -subj /CN=pinned.test 2>/dev/null
  printf 'subjectAltName=DNS:pinned.test,DNS:denied.test,DNS:api.test,DNS:other.test\n' >"$TMP/san"
  openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/world-ca.crt" -CAkey "$TMP/world-ca.key" -CAcreateserial \
    -out "$TMP/server.crt" -days 2 -extfile "$TMP/san" 2>/dev/null
}

bind_sandbox() {
  sqlite3 "$CUBE_STATE" "INSERT INTO taps (name, address, addr_index, sandbox_id, state, created_ms, updated_ms)
    VALUES ('z$(printf '%02x' ${2//./ })', '$2', 2, '$1', 'in_use', 0, 0)"
}

# Waits up to 5 s for a TCP listener on PORT in namespace NS.
wait_listen() {
  for _ in $(seq 100); do
    [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
    sleep 0.05
  done
  return 1
}

start_proxy() {
  ip netns exec "$NODE" ${PROXY_WRAP:-} cube-egress-rules serve --listen "$NODE_ADDR" --audit-log "$AUDIT" --threads 2 \
    2>"$TMP/proxy.err" &
  PROXY=$!
  PIDS+=($PROXY)
  wait_listen "$NODE" 8443
}

policy() { printf '%s' "$1" | cube-egress-rules set sb-1 --file - >/dev/null; }

# curl from the sandbox: NAME to ADDRESS (default the server), trusting the world's test CA only.
fetch() {
  ip netns exec "$SB" curl -sS --max-time 5 --cacert "$TMP/world-ca.crt" --resolve "$1:443:${2:-$SERVER}" \
    "https://$1/hello"
}

# The audit lines about SNI NAME, waiting up to 5 s for at least one.
audit_of() {
  for _ in $(seq 100); do
    [ -s "$AUDIT" ] && grep -q "\"sni\":\"$1\"" "$AUDIT" && break
    sleep 0.05
  done
  grep "\"sni\":\"$1\"" "$AUDIT"
}

@test "serve: an SNI-only allow relays untouched (the client sees the server's own certificate)" {
  policy '{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  start_proxy
  run fetch pinned.test
  assert_success
  [ "$(jq -r .path <<<"$output")" = /hello ]
  line=$(audit_of pinned.test)
  [ "$(jq -r .event <<<"$line")" = tls_passthrough ]
  [ "$(jq -r .policy.decision <<<"$line")" = allow ]
  [ "$(jq -r .policy.matched_rule <<<"$line")" = pinned ]
  [ "$(jq -r .sandbox.policy_id <<<"$line")" = sb-1 ]
  [ "$(jq -r .sandbox.src_ip <<<"$line")" = "$SB_ADDR" ]
  [ "$(jq -r .conn.original_dst_ip <<<"$line")" = "$SERVER" ]
  [ "$(jq -r .conn.original_dst_port <<<"$line")" = 443 ]
  [ "$(jq -r .relay.bytes_up <<<"$line")" -gt 200 ]
  [ "$(jq -r .relay.bytes_down <<<"$line")" -gt 500 ]
  [ "$(stat -c %a "$AUDIT")" = 640 ]
}

@test "serve: an SNI-only deny is a TLS alert; a name not of the destination is dst_not_of_name" {
  policy '{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}},
    {"name": "no", "match": {"sni": "denied.test"}, "action": {"allow": false}}]}'
  start_proxy
  run fetch denied.test
  assert_failure
  [[ "$output" == *"alert access denied"* ]]
  line=$(audit_of denied.test)
  [ "$(jq -r .policy.decision <<<"$line")" = deny ]
  [ "$(jq -r .policy.reason <<<"$line")" = rule_deny ]
  # An allowed SNI sent to another address: refused, a security event.
  run fetch pinned.test "$OTHER"
  assert_failure
  run jq -r 'select(.conn.original_dst_ip == "'"$OTHER"'") | .event + " " + .security.reason' "$AUDIT"
  [ "$output" = "security_event dst_not_of_name" ]
}

@test "serve: names that are not L7 targets get the address policy; no rule that can match is denied" {
  # Internet allowed, one rule: other.test is no L7 target, so it is relayed (not_l7_target).
  policy '{"rules": [{"name": "api", "match": {"sni": "api.test", "path": "/v1/*"}, "action": {"allow": true}}]}'
  start_proxy
  run fetch other.test
  assert_success
  [ "$(jq -r .policy.reason <<<"$(audit_of other.test)")" = not_l7_target ]
  # A rule that needs the HTTP request, and no cluster CA to decrypt with: it fails closed.
  run fetch api.test
  assert_failure
  line=$(audit_of api.test)
  [ "$(jq -r .event <<<"$line")" = tls_handshake ]
  [ "$(jq -r .security.reason <<<"$line")" = cert_signer_failed:no_ca ]
  # Internet off: other.test's address is denied.
  policy '{"allowInternetAccess": false, "rules": [{"name": "p", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  sleep 0.5  # the proxy polls the state file every 100 ms
  : >"$AUDIT"
  run fetch other.test
  assert_failure
  line=$(audit_of other.test)
  [ "$(jq -r .policy.decision <<<"$line")" = deny ]
  [ "$(jq -r .policy.reason <<<"$line")" = not_l7_target ]
}

@test "serve: fail closed — no policy, an unknown source, garbage instead of a ClientHello; a policy change applies at once" {
  start_proxy
  run fetch pinned.test
  assert_failure
  [ "$(jq -r .security.reason <<<"$(audit_of pinned.test)")" = no_policy ]
  # The policy arrives: the next connection follows it, without a restart.
  policy '{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  for _ in $(seq 20); do fetch pinned.test >/dev/null 2>&1 && break; sleep 0.05; done
  run fetch pinned.test
  assert_success
  # Garbage: cut off with a security event, and the next client is served.
  ip netns exec "$SB" bash -c "exec 3<>/dev/tcp/$SERVER/443; printf 'GET / HTTP/1.1\r\n\r\n' >&3; cat <&3 >/dev/null" || true
  run jq -r 'select(.security.reason == "client_hello_not_tls") | .event' "$AUDIT"
  [ "$output" = security_event ]
  run fetch pinned.test
  assert_success
  # The sandbox's TAP goes back to the pool: its address belongs to no sandbox.
  sqlite3 "$CUBE_STATE" "UPDATE taps SET state = 'pooled', sandbox_id = NULL"
  : >"$AUDIT"
  sleep 0.5
  run fetch pinned.test
  assert_failure
  [ "$(jq -r .security.reason <<<"$(audit_of pinned.test)")" = unknown_source ]
}

@test "serve: with the proxy stopped, the sandbox's HTTPS fails instead of leaving directly" {
  policy '{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  start_proxy
  run fetch pinned.test
  assert_success
  kill "$PROXY"
  wait "$PROXY" 2>/dev/null || true
  run fetch pinned.test
  assert_failure
}
