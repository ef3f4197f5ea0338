#!/usr/bin/env bats
# cube-egress-rules serve, the requests it decrypts and the plain-HTTP port, with real TLS: a
# sandbox namespace whose TCP 443 and 80 reach the proxy in a node namespace, and echo servers in a
# world namespace (tests/proxy-helpers.bash). The proxy signs with a cluster CA made by `ca init`;
# the sandbox trusts it; the proxy trusts the world's test CA through [egress] upstream_ca_file.
load proxy-helpers

SB_ADDR=10.77.0.2
SB2_ADDR=10.77.0.3  # a second sandbox in the same namespace, bound only where a test needs it
SECRET='planted-S3cret-9f1c2e7a'

setup() {
  proxy_net h "$SB_ADDR" "$SB2_ADDR"
  proxy_hosts "$SERVER api.test other.test" "$OTHER untrusted.test"
  world_cert api.test other.test
  # untrusted.test: a self-signed certificate that no one trusts.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/rogue.key" \
    -out "$TMP/rogue.crt" -subj /CN=untrusted.test -addext subjectAltName=DNS:untrusted.test -days 2 2>/dev/null
  echo_server "$SERVER" 443 "$TMP/server.crt" "$TMP/server.key"
  echo_server "$SERVER" 80
  echo_server "$OTHER" 443 "$TMP/rogue.crt" "$TMP/rogue.key"
  printf '[egress]\nupstream_ca_file = "%s"\n' "$TMP/world-ca.crt" >"$CUBE_CONFIG"
  cube-egress-rules ca init >"$TMP/out.ca-init"
  CUBE_CA=$(cube-egress-rules ca path)
  bind_sandbox sb-1 "$SB_ADDR"
}

teardown() { proxy_teardown; }

policy() { printf '%s' "$1" | cube-egress-rules set sb-1 --file - >>"$TMP/out.set"; }

# One keep-alive connection from the sandbox: client HOST ADDR PORT CAFILE|- STEP...
client() { ip netns exec "$SB" python3 "$CUBE_ROOT/tests/proxy/http_client.py" "$@"; }
https() { client "$1" "${ADDR:-$SERVER}" 443 "$CUBE_CA" "${@:2}"; }
plain() { client "$1" "${ADDR:-$SERVER}" 80 - "${@:2}"; }

# The audit's http_request lines (waiting up to 5 s for N of them), as compact JSON.
requests() {
  for _ in $(seq 100); do
    [ "$(jq -c 'select(.event == "http_request")' "$AUDIT" 2>/dev/null | wc -l)" -ge "${1:-1}" ] && break
    sleep 0.05
  done
  jq -c 'select(.event == "http_request")' "$AUDIT"
}
security() { jq -r 'select(.event == "security_event") | .security.reason' "$AUDIT"; }

# The secret must appear in no file the run produced (audit log, the proxy's stderr, the commands'
# output) but the state file, which holds it.
assert_secret_hidden() {
  run grep -rl --exclude='state.db*' -- "$SECRET" "$TMP"
  [ "$output" = "" ]
}

@test "serve http: path and method rules decide each request on one keep-alive connection; a change applies to the next request" {
  policy '{"rules": [{"name": "v1-get", "match": {"sni": "api.test", "path": "/v1/*", "method": ["GET"]}, "action": {"allow": true}},
    {"name": "rest", "match": {"sni": "api.test"}, "action": {"allow": false}}]}'
  start_proxy
  run https api.test "GET /v1/a" "GET /admin" "POST /v1/a {}" "GET /v1/b?x=1" \
    "sh:printf '%s' '{\"rules\": [{\"name\": \"closed\", \"match\": {\"sni\": \"api.test\", \"path\": \"/v2/*\"}, \"action\": {\"allow\": true}}]}' | cube-egress-rules set sb-1 --file - >/dev/null" \
    "sleep:0.5" "GET /v1/c"
  assert_success
  mapfile -t lines <<<"$output"
  [ "${#lines[@]}" -eq 5 ]
  # One connection (one local port) for every request.
  [ "$(cut -d' ' -f1 <<<"$output" | sort -u | wc -l)" -eq 1 ]
  [ "$(cut -d' ' -f2 <<<"$output" | tr '\n' ' ')" = "200 403 403 200 403 " ]
  [ "$(cut -d' ' -f3- <<<"${lines[0]}" | jq -r .path)" = /v1/a ]
  [ "$(cut -d' ' -f3- <<<"${lines[1]}")" = '{"rule":"rest","reason":"rule_deny"}' ]
  [ "$(cut -d' ' -f3- <<<"${lines[4]}")" = '{"rule":null,"reason":"no_rule_match"}' ]
  run requests 5
  [ "$(jq -r '.request_id' <<<"$output" | cut -d- -f1 | sort -u | wc -l)" -eq 1 ]
  [ "$(jq -r '[.http.method, .http.path, .http.status, .policy.decision, .policy.matched_rule // "-", .policy.reason] | join(" ")' <<<"$output" | tr '\n' '|')" = \
    "GET /v1/a 200 allow v1-get rule_allow|GET /admin 403 deny rest rule_deny|POST /v1/a 403 deny rest rule_deny|GET /v1/b?x=1 200 allow v1-get rule_allow|GET /v1/c 403 deny - no_rule_match|" ]
  line=$(head -1 <<<"$output")
  [ "$(jq -r .tls.sni <<<"$line")" = api.test ]
  [ "$(jq -r .sandbox.policy_id <<<"$line")" = sb-1 ]
  [ "$(jq -r .conn.original_dst_ip <<<"$line")" = "$SERVER" ]
  [ "$(jq -r .http.scheme <<<"$line")" = https ]
  [ "$(jq -r .policy.audit <<<"$line")" = metadata ]
  [ "$(jq -r 'has("request_body")' <<<"$line")" = false ]
  [ "$(security)" = no_rule_match ]
}

@test "serve http: injection arrives with the rendered value and a forged header is removed; G4 drops it; nothing shows the secret" {
  policy '{"rules": [{"name": "api", "match": {"sni": "api.test"}, "action": {"allow": true,
    "inject": [{"header": "Authorization", "secret": "'"$SECRET"'", "format": "Bearer ${SECRET}"}]}}]}'
  start_proxy
  run ip netns exec "$SB" curl -sS --max-time 5 --cacert "$CUBE_CA" --resolve "api.test:443:$SERVER" \
    -H 'Authorization: Bearer forged' -H 'X-Api-Key: k1' -H 'Cookie: a=1; b=2' -H 'X-Forwarded-For: 6.6.6.6' \
    https://api.test/hello
  assert_success
  [ "$(jq -r .headers.Authorization <<<"$output")" = "Bearer $SECRET" ]
  [ "$(jq -r '.headers | has("X-Forwarded-For")' <<<"$output")" = false ]
  [ "$(jq -r '.headers["X-Forwarded-Proto"]' <<<"$output")" = https ]
  line=$(requests 1)
  [ "$(jq -c .credentials.injected <<<"$line")" = '["Authorization"]' ]
  [[ "$(jq -r '.credentials.secret_ids[0]' <<<"$line")" =~ ^fp-[0-9a-f]{8}$ ]]
  [ "$(jq -r '.redacted_request_headers | has("Authorization")' <<<"$line")" = false ]
  [ "$(jq -r '.redacted_request_headers["X-Api-Key"]' <<<"$line")" = "<redacted>" ]
  [ "$(jq -r '.redacted_request_headers.Cookie' <<<"$line")" = "<redacted; names=a,b>" ]
  # G4: the Host is not the SNI — allowed, the injection dropped with a security event.
  : >"$AUDIT"
  run ip netns exec "$SB" curl -sS --max-time 5 --cacert "$CUBE_CA" --resolve "api.test:443:$SERVER" \
    -H 'Host: other.test' -H 'Authorization: Bearer forged' https://api.test/hello
  assert_success
  [ "$(jq -r '.headers | has("Authorization")' <<<"$output")" = false ]
  line=$(requests 1)
  [ "$(jq -r '[.policy.decision, .policy.reason, .security.inject_dropped] | join(" ")' <<<"$line")" = \
    "allow g4_host_sni_mismatch g4_host_sni_mismatch" ]
  [ "$(jq -r 'has("credentials")' <<<"$line")" = false ]
  [ "$(security)" = g4_host_sni_mismatch ]
  cube-egress-rules show sb-1 >"$TMP/out.show"
  cube-egress-rules show sb-1 -o json >"$TMP/out.show-json"
  kill "$PROXY"
  wait "$PROXY" 2>/dev/null || true
  assert_secret_hidden
}

@test "serve http: plain HTTP is decided the same way and never injected (G1); Host-allowed names must be the destination's" {
  policy '{"dnsServers": ["198.51.100.53"], "rules": [{"name": "api", "match": {"host": "api.test"}, "action": {"allow": true,
    "inject": [{"header": "X-Token", "secret": "'"$SECRET"'"}]}}]}'
  start_proxy
  run plain api.test "GET /one" "GET /two"
  assert_success
  [ "$(cut -d' ' -f2 <<<"$output" | tr '\n' ' ')" = "200 200 " ]
  [ "$(cut -d' ' -f3- <<<"${lines[0]}" | jq -r '.headers | has("X-Token")')" = false ]
  line=$(requests 2 | head -1)
  [ "$(jq -r '[.http.scheme, .policy.decision, .policy.reason, .security.inject_dropped] | join(" ")' <<<"$line")" = \
    "http allow g1_not_https g1_not_https" ]
  [ "$(jq -r 'has("tls")' <<<"$line")" = false ]
  [ -z "$(security)" ]
  # The allowed name sent to another address: refused, a security event.
  : >"$AUDIT"
  ADDR=$OTHER run plain api.test "GET /three"
  assert_success
  [ "$(cut -d' ' -f2- <<<"$output")" = '403 {"rule":"api","reason":"dst_not_of_name"}' ]
  [ "$(security)" = dst_not_of_name ]
  # Once the names file says the policy's resolver gave the sandbox that address for the name (as
  # the DNS relay records it), the Host's request goes there; what another sandbox was told, not.
  echo_server "$OTHER" 80  # it waits for port 80, which $SERVER has: wait for this address too
  poll_until 30 ip netns exec "$WORLD" sh -c "ss -Hltn 'src $OTHER:80' | grep -q ."
  learned() {  # SANDBOX RESOLVER
    sqlite3 "$CUBE_STATE-names" "INSERT INTO learned_names (sandbox_id, name, address, resolver, expires_ms)
      VALUES ('$1', 'api.test', '$OTHER', '$2', $(($(date +%s) * 1000 + 60000)))"
  }
  learned sb-2 198.51.100.53
  learned sb-1 198.51.100.54  # a resolver the policy does not name
  ADDR=$OTHER run plain api.test "GET /three"
  [ "$(cut -d' ' -f2 <<<"$output")" = 403 ]
  learned sb-1 198.51.100.53
  ADDR=$OTHER run plain api.test "GET /three"
  assert_success
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
  # A name that is no L7 target: the address policy (internet allowed).
  run plain other.test "GET /four"
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
  [ "$(jq -r .policy.reason <<<"$(requests 2 | tail -1)")" = not_l7_target ]
  assert_secret_hidden
}

@test "serve http: an untrusted upstream is 502 upstream_unreachable_or_unverified; no policy is denied" {
  start_proxy
  run plain api.test "GET /x"
  [ "$(cut -d' ' -f2- <<<"$output")" = '403 {"rule":null,"reason":"no_policy"}' ]
  [ "$(security)" = no_policy ]
  policy '{"rules": [{"name": "u", "match": {"sni": "untrusted.test", "path": "/*"}, "action": {"allow": true}}]}'
  sleep 0.5
  : >"$AUDIT"
  ADDR=$OTHER run https untrusted.test "GET /x"
  assert_success
  [ "$(cut -d' ' -f2- <<<"$output")" = '502 {"rule":"u","reason":"upstream_unreachable_or_unverified"}' ]
  line=$(requests 1)
  [ "$(jq -r '[.http.status, .policy.decision, .security.reason, .upstream.addr] | join(" ")' <<<"$line")" = \
    "502 allow upstream_unreachable_or_unverified $OTHER:443" ]
  [ "$(security)" = upstream_unreachable_or_unverified ]
  grep -q "certificate" "$TMP/proxy.err" || true
}

@test "serve http: audit levels — none writes no request line, full keeps redacted bodies, [egress] audit_level for the rest" {
  printf '[egress]\nupstream_ca_file = "%s"\naudit_level = "none"\naudit_body_max = "128"\n' "$TMP/world-ca.crt" >"$CUBE_CONFIG"
  policy '{"rules": [{"name": "full", "match": {"sni": "api.test", "path": "/full"}, "action": {"allow": true, "audit": "full"}},
    {"name": "none", "match": {"sni": "api.test", "path": "/none"}, "action": {"allow": true, "audit": "none"}},
    {"name": "meta", "match": {"sni": "api.test", "path": "/meta"}, "action": {"allow": true}},
    {"name": "deny-none", "match": {"sni": "api.test", "path": "/secret"}, "action": {"allow": false, "audit": "none"}}]}'
  start_proxy
  run https api.test 'POST /full {"user": "u", "password": "hunter2", "nested": [{"api_key": "k"}]}' "GET /none" \
    "GET /meta" "GET /secret" "GET /unmatched"
  assert_success
  [ "$(cut -d' ' -f2 <<<"$output" | tr '\n' ' ')" = "200 200 200 403 403 " ]
  run requests 2
  [ "$(jq -r .policy.matched_rule <<<"$output" | tr '\n' ' ')" = "full meta " ]
  full=$(head -1 <<<"$output")
  [ "$(jq -c .request_body <<<"$full")" = '{"nested":[{"api_key":"<redacted>"}],"password":"<redacted>","user":"u"}' ]
  # The response echoes the request: cut at 128 bytes it is no whole JSON, so it is not shown.
  [ "$(jq -r .response_body <<<"$full")" = "<unparsed json: 128 bytes>" ]
  [ "$(jq -r .policy.audit <<<"$full")" = full ]
  [ "$(jq -r 'has("request_body")' <<<"$(tail -1 <<<"$output")")" = false ]
  # no_rule_match: [egress] audit_level none → only its security event.
  [ "$(security)" = no_rule_match ]
  run grep -c hunter2 "$AUDIT"
  [ "$output" = 0 ]
}

@test "serve http: a 1 MB request head is cut off with a security event; a normal client keeps working" {
  policy '{"rules": [{"name": "api", "match": {"host": "api.test"}, "action": {"allow": true}}]}'
  start_proxy
  run ip netns exec "$SB" python3 -c '
import socket, sys
s = socket.create_connection(("'"$SERVER"'", 80), timeout=5)
try:
    s.sendall(b"GET / HTTP/1.1\r\nHost: api.test\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    print(s.recv(100).split(b"\r\n")[0].decode())
except OSError:
    print("cut off")'
  # The 431 arrives unless the reset of the unread megabyte overtakes it.
  [[ "$output" == "HTTP/1.1 431 Request Header Fields Too Large" || "$output" == "cut off" ]]
  [ "$(security)" = request_head_too_large ]
  run plain api.test "GET /ok"
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
}

@test "serve http: a WebSocket upgrade is decided like any request, then tunnelled both ways once answered 101" {
  policy '{"rules": [{"name": "ws", "match": {"host": "api.test", "path": "/ws"}, "action": {"allow": true}},
    {"name": "rest", "match": {"host": "api.test"}, "action": {"allow": false}}]}'
  start_proxy
  # Refused, the connection stays an HTTP one; the next upgrade on it is allowed and tunnelled.
  run plain api.test "upgrade:/admin refused" "upgrade:/ws hello through port 80"
  assert_success
  [ "$(cut -d' ' -f2- <<<"${lines[0]}")" = '403 {"rule":"rest","reason":"rule_deny"}' ]
  [ "$(cut -d' ' -f2- <<<"${lines[1]}")" = "101 HELLO THROUGH PORT 80" ]
  run https api.test "upgrade:/ws hello through tls"
  assert_success
  [ "$(cut -d' ' -f2- <<<"$output")" = "101 HELLO THROUGH TLS" ]
  run requests 3
  [ "$(jq -r '[.http.scheme, .http.path, .http.status, .policy.matched_rule] | join(" ")' <<<"$output" | tr '\n' '|')" = \
    "http /admin 403 rest|http /ws 101 ws|https /ws 101 ws|" ]
}

@test "serve http: the proxy resumes its TLS session with an upstream for the same name and address only" {
  policy '{"rules": [{"name": "api", "match": {"sni": "api.test", "path": "/*"}, "action": {"allow": true}}]}'
  start_proxy
  # Three connections, each closed by the server (else the next would be the same one, kept): the
  # first makes a session, the next two resume it.
  for i in 1 2 3; do
    run https api.test "GET /r$i/close"
    assert_success
    echo "$(cut -d' ' -f3- <<<"$output" | jq -r .tls_resumed)" >>"$TMP/resumed"
  done
  [ "$(tr '\n' ' ' <"$TMP/resumed")" = "false true true " ]
  # Another name at the same address does not get api.test's session.
  policy '{"rules": [{"name": "any", "match": {"sni": "*.test", "path": "/*"}, "action": {"allow": true}}]}'
  run https other.test "GET /o"
  assert_success
  [ "$(cut -d' ' -f3- <<<"$output" | jq -r .tls_resumed)" = false ]
}

# The port the echo server saw the proxy's upstream connection come from.
peer() { cut -d' ' -f3- <<<"$1" | jq -r .peer; }

@test "serve http: an upstream connection is kept for the sandbox's next connection to the same name and address, no other's" {
  bind_sandbox sb-2 "$SB2_ADDR" 3
  rules='{"rules": [{"name": "any", "match": {"sni": "*.test", "path": "/*"}, "action": {"allow": true}},
    {"name": "plain", "match": {"host": "api.test"}, "action": {"allow": true}}]}'
  policy "$rules"
  printf '%s' "$rules" | cube-egress-rules set sb-2 --file - >>"$TMP/out.set"
  start_proxy --health 127.0.0.1:9901
  # Three connections of the sandbox, each closed by the client: one upstream connection for all.
  # The sandbox's `close` is not passed on; its answer says the connection ends.
  for i in 1 2 3; do
    ip netns exec "$SB" curl -sS --max-time 5 --cacert "$CUBE_CA" --resolve "api.test:443:$SERVER" \
      -H 'Connection: close' -D "$TMP/head.$i" "https://api.test/k$i" >"$TMP/out.k$i"
    [ "$(jq -r '.headers.Connection // "none"' "$TMP/out.k$i")" != close ]
    grep -qi '^connection: close' "$TMP/head.$i"
  done
  [ "$(jq -r .peer "$TMP"/out.k? | sort -u | wc -l)" -eq 1 ]
  kept=$(jq -r .peer "$TMP/out.k1")
  [ "$(ip netns exec "$NODE" curl -s http://127.0.0.1:9901/healthz | jq -r .upstream_kept)" = 1 ]
  # Another name at the same address, another sandbox: connections of their own.
  run https other.test "GET /o"
  [ "$(peer "$output")" != "$kept" ]
  run ip netns exec "$SB" curl -sS --max-time 5 --interface "$SB2_ADDR" --cacert "$CUBE_CA" \
    --resolve "api.test:443:$SERVER" https://api.test/sb2
  [ "$(jq -r .peer <<<"$output")" != "$kept" ]
  run https api.test "GET /k4"
  [ "$(peer "$output")" = "$kept" ]
  # The server ends the kept connection as the next request arrives: a GET is sent again on a new
  # connection; a POST, whose body is gone, is 502.
  run https api.test "GET /k5/drop-next"
  [ "$(peer "$output")" = "$kept" ]
  run https api.test "GET /k6"
  assert_success
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
  fresh=$(peer "$output")
  [ "$fresh" != "$kept" ]
  run https api.test "GET /k7/drop-next" "POST /k8 {}"
  [ "$(peer "${lines[0]}")" = "$fresh" ]
  [ "$(cut -d' ' -f2- <<<"${lines[1]}")" = '502 {"rule":"any","reason":"upstream_unreachable_or_unverified"}' ]
  # A connection the server closes is not kept.
  run https api.test "GET /k9/close"
  closed=$(peer "$output")
  run https api.test "GET /k10"
  [ "$(peer "$output")" != "$closed" ]
  # The address given to another sandbox: the last one's kept connection is not the new one's.
  run https api.test "GET /k11"
  before=$(peer "$output")
  printf '%s' "$rules" | cube-egress-rules set sb-3 --file - >>"$TMP/out.set"
  sqlite3 "$CUBE_STATE" "UPDATE taps SET sandbox_id = 'sb-3' WHERE address = '$SB_ADDR'"
  for _ in $(seq 50); do
    run https api.test "GET /k12"
    [ "$(requests 1 | tail -1 | jq -r .sandbox.policy_id)" = sb-3 ] && break
    sleep 0.1
  done
  [ "$(requests 1 | tail -1 | jq -r .sandbox.policy_id)" = sb-3 ]
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
  [ "$(peer "$output")" != "$before" ]
  # An interim 103 is passed on and the answer follows it; the connection is kept only after the
  # answer, so the next request gets its own.
  ip netns exec "$SB" curl -sS --max-time 5 --cacert "$CUBE_CA" --resolve "api.test:443:$SERVER" \
    -D "$TMP/head.early" https://api.test/k13/early >"$TMP/out.early"
  [ "$(jq -r .path "$TMP/out.early")" = /k13/early ]
  grep -q '^HTTP/1.1 103' "$TMP/head.early"
  run https api.test "GET /k14"
  [ "$(cut -d' ' -f3- <<<"$output" | jq -r .path)" = /k14 ]
  [ "$(peer "$output")" = "$(jq -r .peer "$TMP/out.early")" ]
  # A chunked answer to HEAD has no body: nothing of one reaches the client before its next answer.
  run https api.test "HEAD /h/chunked" "GET /after-head"
  [ "$(cut -d' ' -f2 <<<"${lines[0]}")" = 200 ]
  [ "$(cut -d' ' -f3- <<<"${lines[1]}" | jq -r .path)" = /after-head ]
  # Plain HTTP the same way.
  run plain api.test "GET /p1"
  first=$(peer "$output")
  run plain api.test "GET /p2"
  [ "$(peer "$output")" = "$first" ]
}

@test "serve http: Expect: 100-continue is answered once the request is allowed, and the body goes up at once; a denied one is answered and closed" {
  policy '{"rules": [{"name": "up", "match": {"sni": "api.test", "path": "/up/*"}, "action": {"allow": true}},
    {"name": "rest", "match": {"sni": "api.test"}, "action": {"allow": false}}]}'
  start_proxy
  head -c 300000 /dev/urandom >"$TMP/body"
  # curl waits 30 s for the 100 here: within --max-time 10 only if the proxy sends it.
  post() {
    ip netns exec "$SB" curl -sS --max-time 10 --expect100-timeout "${WAIT:-30}" --cacert "$CUBE_CA" \
      --resolve "api.test:443:$SERVER" -H 'Expect: 100-continue' --data-binary @"$TMP/body" -v "$@" 2>"$TMP/post.err"
  }
  run post https://api.test/up/a
  assert_success
  [ "$(jq -r .body_length <<<"$output")" = 300000 ]
  [ "$(jq -r .body_sha256 <<<"$output")" = "$(sha256sum "$TMP/body" | cut -d' ' -f1)" ]
  # The proxy took the expectation on itself: the upstream never saw it.
  [ "$(jq -r '.headers | has("Expect")' <<<"$output")" = false ]
  grep -q '^< HTTP/1.1 100 Continue' "$TMP/post.err"
  [ "$(jq -r '[.http.status, .http.req_bytes] | join(" ")' <<<"$(requests 1)")" = "200 300000" ]
  # Denied: the 403 at once, no 100, and the connection ends (the body was never sent).
  run post https://api.test/admin
  assert_success
  [ "$output" = '{"rule":"rest","reason":"rule_deny"}' ]
  ! grep -q '^< HTTP/1.1 100' "$TMP/post.err"
  grep -qi '^< connection: close' "$TMP/post.err"
  # A client that stops waiting for the 100 and sends its body at once still reads its 403: the
  # proxy reads what comes before it closes, so the close does not reset the connection.
  run ip netns exec "$SB" python3 - "$SERVER" "$CUBE_CA" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), timeout=5), server_hostname="api.test")
body = b"x" * 300000
s.sendall(b"POST /admin HTTP/1.1\r\nHost: api.test\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
answer = b""
while chunk := s.recv(65536):
    answer += chunk
print(answer.decode().split("\r\n")[0], answer.decode().split("\r\n\r\n", 1)[1].strip())
PY
  assert_success
  [ "$output" = 'HTTP/1.1 403 Forbidden {"rule":"rest","reason":"rule_deny"}' ]
  # An HTTP/1.0 request's expectation is ignored (RFC 9110 §10.1.1): no 100; the body comes when the
  # client stops waiting for one.
  WAIT=1 run post --http1.0 https://api.test/up/b
  assert_success
  [ "$(jq -r .body_length <<<"$output")" = 300000 ]
  ! grep -q '^< HTTP/1.1 100' "$TMP/post.err"
}

@test "serve http: a sandbox that goes away mid-request is logged as 499, with no security event and no 502" {
  policy '{"rules": [{"name": "api", "match": {"host": "api.test"}, "action": {"allow": true}}]}'
  start_proxy
  # A head that promises 100,000 bytes, ten of them, and the end of the connection.
  ip netns exec "$SB" python3 - "$SERVER" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"POST /up HTTP/1.1\r\nHost: api.test\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)
s.close()
PY
  line=$(requests 1)
  [ "$(jq -r '[.http.method, .http.status, .policy.decision] | join(" ")' <<<"$line")" = "POST 499 allow" ]
  [ -z "$(security)" ]
  # A body that does not parse is the sandbox's fault too, but a bad request: 400, a security event.
  : >"$AUDIT"
  run ip netns exec "$SB" python3 - "$SERVER" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"POST /up HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
print(s.recv(4096).decode().split("\r\n")[0])
PY
  [ "$output" = "HTTP/1.1 400 Bad Request" ]
  [ "$(jq -r .http.status <<<"$(requests 1)")" = 400 ]
  [ "$(security)" = bad_request ]
  # The proxy goes on serving.
  run plain api.test "GET /after"
  [ "$(cut -d' ' -f2 <<<"$output")" = 200 ]
}
