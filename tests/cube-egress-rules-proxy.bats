#!/usr/bin/env bats
# cube-egress-rules serve, the TLS port, with real TLS: a sandbox namespace whose port-443
# connections reach the proxy in a node namespace, and HTTPS servers (Python http.server + ssl,
# certificates from a test CA) in a world namespace (tests/proxy-helpers.bash).
load proxy-helpers

SB_ADDR=10.77.0.2

setup() {
  proxy_net p "$SB_ADDR"
  proxy_hosts "$SERVER pinned.test denied.test api.test other.test"
  world_cert pinned.test denied.test api.test other.test
  echo_server 0.0.0.0 443 "$TMP/server.crt" "$TMP/server.key"
  bind_sandbox sb-1 "$SB_ADDR"
}

teardown() { proxy_teardown; }

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

@test "serve: long transfers through the relay, both ways, arrive byte for byte" {
  # Past 1 MiB a connection's pipe grows (proxy_relay.cpp): the bytes after that go through it.
  policy '{"rules": [{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}}]}'
  start_proxy
  size=$((24 * 1024 * 1024))
  ip netns exec "$SB" curl -sS --max-time 60 --cacert "$TMP/world-ca.crt" --resolve "pinned.test:443:$SERVER" \
    -D "$TMP/headers" -o "$TMP/down" "https://pinned.test/bytes/$size"
  [ "$(stat -c %s "$TMP/down")" -eq "$size" ]
  want=$(tr -d '\r' <"$TMP/headers" | awk -F': ' 'tolower($1) == "x-sha256" { print $2 }')
  [ "$(sha256sum <"$TMP/down" | cut -d' ' -f1)" = "$want" ]
  head -c "$size" /dev/urandom >"$TMP/up"
  run ip netns exec "$SB" curl -sS --max-time 60 --cacert "$TMP/world-ca.crt" --resolve "pinned.test:443:$SERVER" \
    --data-binary @"$TMP/up" -H 'Content-Type: application/octet-stream' https://pinned.test/up
  assert_success
  [ "$(jq -r .body_length <<<"$output")" -eq "$size" ]
  [ "$(jq -r .body_sha256 <<<"$output")" = "$(sha256sum <"$TMP/up" | cut -d' ' -f1)" ]
  line=$(audit_of pinned.test | tail -1)
  [ "$(jq -r .relay.bytes_up <<<"$line")" -gt "$size" ]
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
