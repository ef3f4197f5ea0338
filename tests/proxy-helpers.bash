# The network the proxy tests share (cube-egress-rules-proxy*.bats): a sandbox namespace holding
# the sandbox addresses, a node namespace running `cube-egress-rules serve` behind an nft tproxy
# rule, and a world namespace with echo servers (tests/proxy/echo_server.py) and a test CA.
#
# The tproxy rule is a plain one (table inet cube_test, in the node namespace) with the policy
# routing TPROXY needs, so that these tests try the proxy alone; `redirect up`, which installs the
# real one, is tried with real traffic in cube-egress-rules-redirect.bats. A sandbox is bound to its
# address by a row in cube-tap's taps table written with sqlite3 (columns documented in
# cube-state(5)), as cube-tap ensure would leave it.
load helpers

NODE_ADDR=10.77.0.1
SERVER=198.51.100.10
OTHER=198.51.100.11

# proxy_net TAG SANDBOX_ADDR...: the three namespaces ($SB, $NODE, $WORLD); the world holds
# $SERVER and $OTHER. Sandbox TCP 443 goes to the proxy's 8443 and TCP 80 to its 8080; nothing
# else on those ports leaves the node.
proxy_net() {
  local tag=$1 a
  shift
  require_root
  for a in ip nft python3 curl openssl sqlite3 ss jq; do require_command "$a"; done
  cube_setup
  ID="cube-$tag-$$-${BATS_TEST_NUMBER}"
  SB="$ID-s" NODE="$ID-n" WORLD="$ID-w"
  PIDS=()
  AUDIT="$TMP/audit.jsonl"
  for a in "$SB" "$NODE" "$WORLD"; do
    ip netns add "$a"
    ip -n "$a" link set lo up
  done
  ip -n "$NODE" link add n0 type veth peer name s0 netns "$SB"
  ip -n "$NODE" link add n1 type veth peer name w0 netns "$WORLD"
  ip -n "$NODE" addr add "$NODE_ADDR/24" dev n0
  ip -n "$NODE" addr add 198.51.100.1/24 dev n1
  for a in "$@"; do ip -n "$SB" addr add "$a/24" dev s0; done
  ip -n "$WORLD" addr add "$SERVER/24" dev w0
  ip -n "$WORLD" addr add "$OTHER/24" dev w0
  for a in "$NODE n0" "$NODE n1" "$SB s0" "$WORLD w0"; do ip -n ${a% *} link set ${a#* } up; done
  ip -n "$SB" route add default via "$NODE_ADDR"
  ip -n "$WORLD" route add default via 198.51.100.1
  ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
  # TPROXY as the redirect does it: marked packets are delivered locally, to the proxy.
  ip -n "$NODE" rule add fwmark 0x1 lookup 100
  ip -n "$NODE" route add local 0.0.0.0/0 dev lo table 100
  local sources
  sources=$(IFS=,; echo "$*")
  ip netns exec "$NODE" nft -f - <<NFT
table inet cube_test {
  chain pre {
    type filter hook prerouting priority mangle;
    ip saddr { $sources } tcp dport 443 tproxy ip to $NODE_ADDR:8443 meta mark set 1 accept
    ip saddr { $sources } tcp dport 80 tproxy ip to $NODE_ADDR:8080 meta mark set 1 accept
    ip saddr { $sources } tcp dport { 80, 443 } drop
  }
}
NFT
  mkdir -p "/etc/netns/$NODE"
  cube-egress-rules list >/dev/null  # the state file, with its tables
}

proxy_teardown() {
  local p
  [ -n "${DEBUG_KEEP:-}" ] && [ -n "${TMP:-}" ] && cp -r "$TMP" "$DEBUG_KEEP-$BATS_TEST_NUMBER"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${SB:-}" "${NODE:-}" "${WORLD:-}"; do [ -n "$p" ] && ip netns del "$p" 2>/dev/null; done
  [ -n "${NODE:-}" ] && rm -rf "/etc/netns/$NODE"
  cube_teardown
}

# proxy_hosts LINE...: the names the proxy resolves (its check that a name's destination is an
# address of the name). `ip netns exec` binds /etc/netns/NAME/hosts over /etc/hosts for it alone.
proxy_hosts() { printf '%s\n' "$@" >"/etc/netns/$NODE/hosts"; }

# echo_server ADDRESS PORT [CERT KEY]: an echo server in the world (TLS when given a certificate).
echo_server() {
  ip netns exec "$WORLD" python3 "$CUBE_ROOT/tests/proxy/echo_server.py" "$@" &
  PIDS+=($!)
  wait_listen "$WORLD" "$2"
}

# bind_sandbox SANDBOX ADDRESS [INDEX]: the in_use TAP row cube-tap ensure would leave.
bind_sandbox() {
  sqlite3 "$CUBE_STATE" "INSERT INTO taps (name, address, addr_index, sandbox_id, state, created_ms, updated_ms)
    VALUES ('z$(printf '%02x' ${2//./ })', '$2', ${3:-2}, '$1', 'in_use', 0, 0)"
}

# start_proxy [ARG...]: `serve` in the node namespace (under $PROXY_WRAP if set), its pid in PROXY,
# its stderr in $TMP/proxy.err; returns once both ports listen.
start_proxy() {
  ip netns exec "$NODE" ${PROXY_WRAP:-} cube-egress-rules serve --listen "$NODE_ADDR" --audit-log "$AUDIT" \
    --threads 2 "$@" 2>"$TMP/proxy.err" &
  PROXY=$!
  PIDS+=($PROXY)
  wait_listen "$NODE" 8443 && wait_listen "$NODE" 8080
}
