#!/usr/bin/env bash
# cube-egress-rules: a sandbox's egress policy stored with its secret kept apart, shown redacted,
# patched, and asked "why was this request refused?" with check; then enforced in nftables inside a
# private network namespace made for the demo (the host's firewall is never touched): apply,
# the default policy, drift fixed by reconcile, an address released, teardown.
set -euo pipefail
# shown CMD…: like run, for commands whose stdout is not the point.
shown() {
  printf '\033[2m$ %s\033[0m\n' "$*"
  "$@" >/dev/null
}

cat >"$DEMO_DIR/egress.json" <<'JSON'
{
  "allowInternetAccess": false,
  "allowOut": ["203.0.113.0/24", "*.pypi.org"],
  "dnsServers": ["192.0.2.53"],
  "rules": [
    {"name": "github-read", "match": {"sni": "api.github.com", "host": "api.github.com", "method": ["GET"], "path": "/repos/*"},
     "action": {"allow": true, "audit": "full",
                "inject": [{"header": "Authorization", "secret": "ghp_demo0123456789", "format": "Bearer ${SECRET}"}]}},
    {"name": "github-other", "match": {"sni": "*.github.com"}, "action": {"allow": false}}
  ]
}
JSON

say "cube-egress-rules: a policy for sandbox sb-1 (internet off; an address range, a domain, two L7 rules)"
printf '\033[2m$ cat egress.json | jq -c .rules[0].match\033[0m\n'
jq -c '.rules[0].match' "$DEMO_DIR/egress.json"
run cube-egress-rules set sb-1 --file "$DEMO_DIR/egress.json"

say "Shown, the secret is redacted; it is named by its secret_ref (fp- + 8 hex of its SHA-256)"
run cube-egress-rules show sb-1

say "An invalid policy is refused whole, naming the rule and the field; nothing is stored"
echo '{"allowOut": ["pypi.org"], "rules": [{"name": "x", "match": {"hots": "a.b"}}]}' >"$DEMO_DIR/bad.json"
run cube-egress-rules set sb-2 --file "$DEMO_DIR/bad.json" || echo "(exit status $?)"
sed -i 's/"hots"/"host"/' "$DEMO_DIR/bad.json"
run cube-egress-rules validate --file "$DEMO_DIR/bad.json" || echo "(exit status $?)"

say "Why was this request refused? check decides as the proxy will, one JSON line per request"
cat >"$DEMO_DIR/requests.jsonl" <<'JSONL'
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"GET","path":"/repos/cube","dst":"140.82.112.6"}
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"DELETE","path":"/repos/cube","dst":"140.82.112.6"}
{"scheme":"https","sni":"gist.github.com","host":"evil.example","path":"/","dst":"140.82.112.4"}
{"scheme":"https","sni":"files.pypi.org","dst":"151.101.0.223"}
{"scheme":"https","sni":"example.org","dst":"93.184.216.34"}
{"scheme":"https","sni":"example.org","dst":"203.0.113.10"}
JSONL
printf '\033[2m$ cube-egress-rules check sb-1 < requests.jsonl | jq -c ...\033[0m\n'
cube-egress-rules check sb-1 <"$DEMO_DIR/requests.jsonl" | jq -c '{decision, rule, reason, inject, by}'

say "patch adds a rule (or replaces the one of its name); the whole policy is checked again"
echo '{"name": "github-write", "match": {"sni": "api.github.com", "method": ["DELETE"]}, "action": {"allow": true}}' \
  >"$DEMO_DIR/rule.json"
shown cube-egress-rules patch sb-1 --rule "$DEMO_DIR/rule.json"
printf '\033[2m$ sed -n 2p requests.jsonl | cube-egress-rules check sb-1 | jq -c ...\033[0m\n'
sed -n 2p "$DEMO_DIR/requests.jsonl" | cube-egress-rules check sb-1 | jq -c '{decision, rule, reason}'
say "(first match wins: github-other, before it, still decides; the new rule goes first to take effect)"

say "export writes every policy as JSON Lines, secrets redacted unless --with-secrets"
printf '\033[2m$ cube-egress-rules export | jq -c ...\033[0m\n'
cube-egress-rules export | jq -c '{sandbox, revision, secret: .policy.rules[0].action.inject[0].secret}'

if [ "$(id -u)" -ne 0 ]; then
  say "cube-egress-rules apply: skipped (it writes nftables in a private network namespace, which needs root)"
  exit 0
fi
ns="cube-demo-egress-$$"
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  umount "$DEMO_DIR/egress-bpf" 2>/dev/null || true
}
trap cleanup EXIT
node() {
  printf '\033[2m$ %s\033[0m\n' "$*" >&2
  ip netns exec "$ns" "$@"
}
mkdir -p "$DEMO_DIR/egress-bpf"
mount -t bpf bpf "$DEMO_DIR/egress-bpf"
export CUBE_CONFIG="$DEMO_DIR/egress.toml"
printf '[tap]\nbpf_pin_dir = "%s"\n' "$DEMO_DIR/egress-bpf" >"$CUBE_CONFIG"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add up0 type veth peer name w0
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up

say "Enforcement, in a private node namespace: sb-1 gets its TAP from cube-tap, and apply installs its policy"
node cube-tap setup --uplink up0 >/dev/null
node cube-tap ensure sb-1 -o json | jq -c '{sandbox, tap, address}'
node cube-egress-rules apply sb-1
say "One transaction made its sets and its chain, which decides as check does: allow, learned, deny, accept"
node nft list chain inet cube_egress a_c0a80002
node nft list set inet cube_egress a_c0a80002_allow

say "sb-2 has no policy: its address gets the default (internet allowed, private ranges denied), no element"
node cube-tap ensure sb-2 -o json | jq -c '{sandbox, address}'
node cube-egress-rules apply --all
node nft list map inet cube_egress sandboxes

say "Drift: someone empties sb-1's allow set by hand; reconcile finds it and puts it back"
node nft flush set inet cube_egress a_c0a80002_allow
node cube-egress-rules reconcile --dry-run
node cube-egress-rules reconcile
node cube-egress-rules reconcile -o json

say "sb-1 is released: its address falls back to the default, so the pooled TAP carries none of its rules"
node cube-tap release sb-1 >/dev/null
node cube-egress-rules apply sb-1
node nft list map inet cube_egress sandboxes

say "teardown removes the whole table inet cube_egress, and nothing else"
node cube-egress-rules teardown
node nft list tables
node cube-tap teardown --force >/dev/null
