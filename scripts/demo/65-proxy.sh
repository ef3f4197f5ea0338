#!/usr/bin/env bash
# cube-egress-rules serve, the transparent proxy, behind the real redirect: a guest namespace behind
# a sandbox TAP (reached through tests/net/vmm_relay.cpp, as in the data-path chapter), its policy
# applied with `apply`, its TCP 443 sent to the proxy by `redirect up`, and an HTTPS echo server in
# the world that shows what reached it. One request is relayed untouched, one gets a credential
# injected, two are refused; then the audit log says what happened. Everything the chapter makes
# (namespaces, BPF file system, tables, servers) is removed on the way out.
set -euo pipefail
relay="${CUBE_BUILD:-$CUBE_ROOT/build}/tests/vmm-relay"
if [ "$(id -u)" -ne 0 ]; then
  say "cube-egress-rules serve: skipped (it needs root for network namespaces and TPROXY)"
  exit 0
fi
for cmd in curl python3 openssl; do
  command -v "$cmd" >/dev/null || { say "cube-egress-rules serve: skipped ($cmd is not installed)"; exit 0; }
done
ns="cube-demo-px-$$"
world="$ns-w"
guest="$ns-g"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$guest" 2>/dev/null || true
  ip netns del "$world" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "/etc/netns/$ns"
  umount "$DEMO_DIR/px-bpf" 2>/dev/null || true
}
trap cleanup EXIT
. "$CUBE_ROOT/scripts/demo/lib/net.bash"

# A state file and config of the chapter's own; the proxy trusts the world's test CA.
export CUBE_STATE="$DEMO_DIR/proxy.db" CUBE_CONFIG="$DEMO_DIR/proxy.toml"
mkdir -p "$DEMO_DIR/px-bpf"
mount -t bpf bpf "$DEMO_DIR/px-bpf"
printf '[tap]\nbpf_pin_dir = "%s"\n[egress]\nupstream_ca_file = "%s"\naudit_level = "metadata"\n' \
  "$DEMO_DIR/px-bpf" "$DEMO_DIR/world-ca.crt" >"$CUBE_CONFIG"

say "cube-egress-rules serve: a node, a guest behind a sandbox TAP, and an HTTPS world"
ip netns add "$ns"
ip netns add "$world"
ip netns add "$guest"
for n in "$ns" "$world" "$guest"; do ip -n "$n" link set lo up; done
ip -n "$ns" link add up0 type veth peer name w0 netns "$world"
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up
ip -n "$world" addr add 198.51.100.1/24 dev w0
ip -n "$world" link set w0 up
# The world's servers: one certificate for three names, from a CA of the world's own.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$DEMO_DIR/world-ca.key" \
  -out "$DEMO_DIR/world-ca.crt" -subj /CN=world-ca -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$DEMO_DIR/world.key" \
  -out "$DEMO_DIR/world.csr" -subj /CN=api.test 2>/dev/null
printf 'subjectAltName=DNS:api.test,DNS:pinned.test,DNS:other.test\n' >"$DEMO_DIR/world.san"
openssl x509 -req -in "$DEMO_DIR/world.csr" -CA "$DEMO_DIR/world-ca.crt" -CAkey "$DEMO_DIR/world-ca.key" \
  -CAcreateserial -out "$DEMO_DIR/world.crt" -days 2 -extfile "$DEMO_DIR/world.san" 2>/dev/null
ip netns exec "$world" python3 "$CUBE_ROOT/tests/proxy/echo_server.py" 198.51.100.1 443 \
  "$DEMO_DIR/world.crt" "$DEMO_DIR/world.key" &
pids+=($!)
wait_listen "$world" 443
# The node's resolver knows the names (the proxy checks that a name's destination is its address).
mkdir -p "/etc/netns/$ns"
echo "198.51.100.1 api.test pinned.test other.test" >"/etc/netns/$ns/hosts"

node cube-tap setup --uplink up0 -o json | jq -c '{uplink, gateway}'
node cube-tap ensure sb-1 -o json | jq -c '{sandbox, tap, address}'
ip netns exec "$ns" cube-tap serve --socket "$DEMO_DIR/px.sock" 2>"$DEMO_DIR/px-serve.log" &
pids+=($!)
wait_line "$DEMO_DIR/px-serve.log" 'serving TAP fds' || true
node cube-tap get-fd sb-1 --socket "$DEMO_DIR/px.sock" --exec \
  "$relay" --guest-netns "/run/netns/$guest" --guest-tap eth0 >"$DEMO_DIR/px-relay.out" 2>&1 &
pids+=($!)
wait_line "$DEMO_DIR/px-relay.out" ready
guest_eth0

say "The policy: pinned.test relayed as is; api.test's /v1/ reads get a credential; the rest refused"
cat >"$DEMO_DIR/px-policy.json" <<'JSON'
{
  "allowInternetAccess": false,
  "rules": [
    {"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}},
    {"name": "api-read", "match": {"sni": "api.test", "path": "/v1/*", "method": ["GET"]},
     "action": {"allow": true, "inject": [{"header": "Authorization", "secret": "demo-token-42", "format": "Bearer ${SECRET}"}]}},
    {"name": "api-rest", "match": {"sni": "api.test"}, "action": {"allow": false}}
  ]
}
JSON
jq -c . "$DEMO_DIR/px-policy.json"
node cube-egress-rules set sb-1 --file "$DEMO_DIR/px-policy.json" -o json | jq -c '{sandbox, rules}'
node cube-egress-rules apply sb-1 >/dev/null
node cube-egress-rules redirect up >/dev/null
node cube-egress-rules ca init -o json | jq -c '{outcome, subject}'
ip netns exec "$ns" cube-egress-rules serve --audit-log "$DEMO_DIR/audit.jsonl" 2>"$DEMO_DIR/proxy.log" &
pids+=($!)
wait_listen "$ns" 8443
ca=$(cube-egress-rules ca path)
# curl in the guest: NAME's HTTPS URL PATH, at the world's address, trusting CA.
fetch() { guest curl -sS -m 5 --cacert "$3" --resolve "$1:443:198.51.100.1" "https://$1$2"; }

say "Relayed untouched: curl trusts only the world's CA, so the certificate it checked is the world's own"
fetch pinned.test /hello "$DEMO_DIR/world-ca.crt" | jq -c '{path, authorization: .headers.Authorization}'

say "Injected: the proxy decrypts (the guest trusts the cluster CA) and the world receives the credential"
fetch api.test /v1/items "$ca" | jq -c '{path, authorization: .headers.Authorization}'

say "Refused: a write to api.test gets 403 naming the rule; other.test gets a TLS alert"
guest curl -sS -m 5 --cacert "$ca" --resolve "api.test:443:198.51.100.1" -X POST -d x https://api.test/v1/items || true
echo
fetch other.test / "$ca" 2>&1 || true

say "The audit log: one JSON line per request or connection, the credential never in it"
sleep 0.3
jq -c '{event, sni: (.tls.sni // null), path: (.http.path // null), decision: .policy.decision,
  rule: (.policy.matched_rule // null), reason: .policy.reason, injected: (.credentials.injected // null)}' \
  "$DEMO_DIR/audit.jsonl"
echo "lines naming the secret: $(grep -c demo-token-42 "$DEMO_DIR/audit.jsonl" "$DEMO_DIR/proxy.log" | awk -F: '{s += $2} END {print s}')"

say "Teardown: the redirect, the sandbox's rules and the node's tables go"
node cube-egress-rules redirect down >/dev/null
node cube-egress-rules teardown >/dev/null
node cube-tap release sb-1 >/dev/null
node cube-tap teardown --force >/dev/null
echo "nftables tables left in the node: $(ip netns exec "$ns" nft list tables | wc -l)"
