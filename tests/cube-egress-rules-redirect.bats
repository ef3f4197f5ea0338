#!/usr/bin/env bats
# cube-egress-rules redirect and dns-relay with real traffic: a cube-tap sandbox whose guest
# namespace is reached through tests/net/vmm_relay.cpp, a world namespace behind the uplink with a
# test resolver (tests/dns-tool.py) and servers, and the node namespace where the tools run. The
# policy routing and every nftables table live in the test's namespaces only.
#
# The sets l7_sources and dns_sources, and a sandbox's a_<k>_learned, are maintained by
# `cube-egress-rules apply`. Most tests fill them with `nft add element` (add_source and
# learned_set below) to try redirect and the relay alone; the "with apply" test runs them with
# apply's sets, input hook and address policy in place.

load tap-helpers

RELAY="$CUBE_BUILD/tests/vmm-relay"
DNS_TOOL="$CUBE_ROOT/tests/dns-tool.py"

setup() {
  tap_setup
  require_command python3
  require_command nft
  GUEST="$NS-g"
  ip netns add "$GUEST"
  ip -n "$GUEST" link set lo up
  tap_node
  start_server
}

teardown() {
  [ -n "${GUEST:-}" ] && ip netns del "$GUEST" 2>/dev/null
  [ -n "${NS:-}" ] && rm -rf "/etc/netns/$NS"
  tap_teardown
}

egress() { ip netns exec "$NS" cube-egress-rules "$@"; }

# The guest of sandbox $1 (tap-helpers.bash), and its address and nft key in ADDR and KEY.
start_guest_addr() {
  start_guest "$1"
  ADDR=$(tapx show "$1" -o json | jq -r .address)
  KEY=$(printf '%02x' ${ADDR//./ })
}

# Puts the sandbox's address in set $1 (l7_sources or dns_sources), as apply will.
add_source() { inns nft add element inet cube_egress "$1" "{ $ADDR }"; }
# Creates the sandbox's learned set as apply will (the contract's definition).
learned_set() { inns nft add set inet cube_egress "a_${KEY}_learned" '{ type ipv4_addr; flags timeout; }'; }
set_members() { inns nft -j list set inet cube_egress "$1" | jq -r '.nftables[].set.elem // [] | .[]'; }
learned() { inns nft -j list set inet cube_egress "a_${KEY}_learned" | jq -c '[.nftables[].set.elem // [] | .[] | .elem | {val, timeout}]'; }

# A TCP server in namespace $1 on $2:$3 that writes back the address the client asked for and the
# client's own; with "transparent" as $4 it is an IP_TRANSPARENT socket (the proxy's kind).
serve_tcp() {
  ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
if sys.argv[3] == "transparent":
    s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
print("listening", flush=True)
while True:
    c, peer = s.accept()
    local = c.getsockname()
    c.sendall(f"local {local[0]}:{local[1]} peer {peer[0]}\n".encode())
    c.close()' "$2" "$3" "${4:-plain}" >"$TMP/tcp-$1-$3" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/tcp-$1-$3" listening
}

# Connects from the guest to $1:$2 and prints the first line it reads, or fails.
guest_connect() {
  ip netns exec "$GUEST" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print(s.makefile().readline().strip())' "$1" "$2"
}

start_resolver() {
  ip netns exec "$WORLD" python3 "$DNS_TOOL" serve "$1" "$TMP/resolver-$1.log" >"$TMP/resolver-$1.out" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/resolver-$1.out" listening
}

start_relay() {
  : >"$TMP/dns-relay.log"
  ip netns exec "$NS" cube-egress-rules -v dns-relay 2>>"$TMP/dns-relay.log" 3>&- &
  DNS_RELAY=$!
  PIDS+=($DNS_RELAY)
  wait_line "$TMP/dns-relay.log" "relaying DNS"
}

# The echo server (tests/proxy/echo_server.py) on $1:443 in the world, with world_cert's certificate.
world_https() {
  ip netns exec "$WORLD" python3 "$CUBE_ROOT/tests/proxy/echo_server.py" "$1" 443 "$TMP/server.crt" "$TMP/server.key" 3>&- &
  PIDS+=($!)
  wait_listen "$WORLD" 443
}

# The proxy in the node namespace, its pid in PROXY; returns once its TLS port listens.
start_serve() {
  ip netns exec "$NS" cube-egress-rules serve --audit-log "$TMP/audit.jsonl" 2>"$TMP/proxy.err" 3>&- &
  PROXY=$!
  PIDS+=($PROXY)
  wait_listen "$NS" 8443
}

guest_query() { ip netns exec "$GUEST" python3 "$DNS_TOOL" query "$@"; }

# A policy with internet disabled that allows *.example.com through the resolver 198.51.100.1.
set_dns_policy() {
  cat >"$TMP/policy.json" <<EOF
{"allowInternetAccess": false, "allowOut": [${1:-"\"*.example.com\""}], "dnsServers": ["198.51.100.1"]}
EOF
  egress set sb1 --file "$TMP/policy.json" >/dev/null
}

@test "redirect up installs the chain, the rule and the route; status shows them; up twice changes nothing" {
  run egress redirect status -o json
  assert_success
  [ "$(echo "$output" | jq '[.[] | select(.installed)] | length')" -eq 1 ]  # only ip_forward
  run egress redirect up -o json
  assert_success
  [ "$(echo "$output" | jq '[.[] | select(.installed | not)] | length')" -eq 0 ]
  [ "$(echo "$output" | jq -r '.[] | select(.object == "rule") | .detail')" = "priority 100 fwmark 0x63756265 lookup 100" ]
  first=$(inns nft list chain inet cube_egress tproxy_redirect)
  egress redirect up >/dev/null
  [ "$(inns nft list chain inet cube_egress tproxy_redirect)" = "$first" ]
  [ "$(inns ip rule show fwmark 0x63756265 | wc -l)" -eq 1 ]
  run inns ip route show table 100
  assert_output --partial "local default dev lo"
  [ "$(echo "$first" | grep -c 'tproxy ip to 192.168.0.1')" -eq 4 ]
  [ "$(echo "$first" | grep -c ' drop$')" -eq 4 ]
}

@test "redirect down removes exactly what up installed, twice is fine, and other objects stay" {
  inns nft add table inet cube_egress
  inns nft add set inet cube_egress a_c0a80002_allow '{ type ipv4_addr; flags interval; }'
  egress redirect up >/dev/null
  run egress redirect down -o json
  assert_success
  [ "$(echo "$output" | jq '[.[] | select(.installed and .object != "sysctl")] | length')" -eq 0 ]
  run egress redirect down
  assert_success
  inns nft list set inet cube_egress a_c0a80002_allow >/dev/null
  inns nft list set inet cube_egress l7_sources >/dev/null
  [ -z "$(inns ip rule show fwmark 0x63756265)" ]
  [ -z "$(inns ip route show table 100)" ]
}

@test "redirect uses the [egress] ports, mark and table; out-of-range values are refused" {
  tap_config '[egress]' 'proxy_tls_port = 9443' 'tproxy_mark = 0x10' 'tproxy_table = 42'
  run egress redirect up -o json
  assert_success
  echo "$output" | jq -e '.[] | select(.detail | startswith("tcp 443")) | .detail | contains(":9443")'
  [ -n "$(inns ip rule show fwmark 0x10 lookup 42)" ]
  tap_config '[egress]' 'tproxy_table = 255'
  run egress redirect up
  assert_failure 2
  assert_output --partial "tproxy_table"
}

@test "redirect up without cube-tap setup is not found; down after cube-tap teardown still cleans up" {
  egress redirect up >/dev/null
  tapx teardown >/dev/null
  run egress redirect up
  assert_failure 3
  assert_output --partial "cube-tap setup"
  run egress redirect down
  assert_success
  [ -z "$(inns ip rule show fwmark 0x63756265)" ]
  [ -z "$(inns ip route show table 100)" ]
  run inns nft list chain inet cube_egress tproxy_redirect
  assert_failure
}

@test "a sandbox's port-443 connection reaches a transparent listener with its original destination" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  add_source l7_sources
  serve_tcp "$NS" 192.168.0.1 8443 transparent
  run guest_connect 198.51.100.1 443
  assert_success
  assert_output "local 198.51.100.1:443 peer $ADDR"
  # Port 80 goes to its own listener; other ports are not redirected.
  serve_tcp "$NS" 192.168.0.1 8080 transparent
  run guest_connect 203.0.113.9 80
  assert_output "local 203.0.113.9:80 peer $ADDR"
  serve_tcp "$WORLD" 198.51.100.1 8000
  run guest_connect 198.51.100.1 8000
  assert_output "local 198.51.100.1:8000 peer 198.51.100.2"
}

@test "with no proxy listening, a redirected connection is dropped, not routed around the proxy" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  add_source l7_sources
  serve_tcp "$WORLD" 198.51.100.1 443
  run guest_connect 198.51.100.1 443
  assert_failure
  # A sandbox not in l7_sources reaches the world server directly.
  inns nft flush set inet cube_egress l7_sources
  run guest_connect 198.51.100.1 443
  assert_success
  assert_output "local 198.51.100.1:443 peer 198.51.100.2"
}

@test "dns-relay forwards UDP and TCP queries and learns allowed names' addresses, which expire with their TTL" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  set_dns_policy
  add_source dns_sources
  learned_set
  start_resolver 198.51.100.1
  start_relay
  run guest_query 198.51.100.1 api.example.com
  assert_success
  assert_line "203.0.113.10 2"
  assert_line "203.0.113.11 2"
  run learned
  assert_output --partial '{"val":"203.0.113.10","timeout":2}'
  assert_output --partial '{"val":"203.0.113.11","timeout":2}'
  run guest_query 198.51.100.1 long.example.com --tcp
  assert_success
  assert_output "203.0.113.20 300"
  run learned
  assert_output --partial '{"val":"203.0.113.20","timeout":300}'
  grep -q "tcp long.example.com" "$TMP/resolver-198.51.100.1.log"
  # A name outside the policy's domains is answered but not learned.
  run guest_query 198.51.100.1 other.example.net
  assert_output "203.0.113.30 300"
  run learned
  refute_output --partial 203.0.113.30
  # An answer never opens what the policy denies outright: the guest gets the private address as
  # the resolver sent it, but only the public one is learned.
  run guest_query 198.51.100.1 meta.example.com
  assert_line "169.254.169.254 300"
  assert_line "203.0.113.40 300"
  run learned
  assert_output --partial '{"val":"203.0.113.40","timeout":300}'
  refute_output --partial 169.254.169.254
  # The 2 s elements expire; the 300 s one stays.
  for i in $(seq 100); do learned | grep -q 203.0.113.10 || break; sleep 0.1; done
  run learned
  refute_output --partial 203.0.113.10
  assert_output --partial 203.0.113.20
}

@test "dns-relay follows CNAME chains to the addresses it learns" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  set_dns_policy '"alias.example.com"'
  add_source dns_sources
  learned_set
  start_resolver 198.51.100.1
  start_relay
  run guest_query 198.51.100.1 alias.example.com
  assert_success
  assert_line "203.0.113.10 2"
  run learned
  assert_output --partial '{"val":"203.0.113.10","timeout":2}'
}

@test "dns-relay does not forward a query to a resolver the sandbox may not reach" {
  ip -n "$WORLD" addr add 198.51.100.3/24 dev w0
  start_guest_addr sb1
  egress redirect up >/dev/null
  set_dns_policy
  add_source dns_sources
  learned_set
  start_resolver 198.51.100.1
  start_resolver 198.51.100.3
  start_relay
  run guest_query 198.51.100.3 api.example.com
  assert_failure
  assert_output timeout
  [ ! -s "$TMP/resolver-198.51.100.3.log" ]
  grep -q "not allowed for sandbox sb1" "$TMP/dns-relay.log"
}

@test "dns-relay picks up a policy change without a restart" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  set_dns_policy '"long.example.com"'
  add_source dns_sources
  learned_set
  start_resolver 198.51.100.1
  start_relay
  guest_query 198.51.100.1 api.example.com >/dev/null
  run learned
  refute_output --partial 203.0.113.10
  set_dns_policy
  # The relay re-reads the policies within about 100 ms: ask until it learns, for 5 s at most.
  for i in $(seq 25); do
    guest_query 198.51.100.1 api.example.com >/dev/null
    learned | grep -q 203.0.113.10 && break
    sleep 0.2
  done
  run learned
  assert_output --partial 203.0.113.10
}

@test "hostile answers (a compression loop, a truncated record) crash nothing and are still delivered" {
  start_guest_addr sb1
  egress redirect up >/dev/null
  set_dns_policy
  add_source dns_sources
  learned_set
  start_resolver 198.51.100.1
  start_relay
  run guest_query 198.51.100.1 loop.example.com
  assert_success  # delivered unchanged: the relay never rewrites
  run guest_query 198.51.100.1 trunc.example.com --tcp
  assert_success
  kill -0 "$DNS_RELAY"
  run guest_query 198.51.100.1 api.example.com
  assert_line "203.0.113.10 2"
  run learned
  refute_output --partial 203.0.113.40
}

@test "with apply: its sets route a sandbox to the proxy and the relay, through its input hook" {
  start_guest_addr sb1
  # Internet off, *.example.com allowed by name (so DNS is learned), one L7 rule (so TCP 443 goes
  # to the proxy), the resolver 198.51.100.1.
  printf '%s\n' '{"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.1"],' \
    ' "rules": [{"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]}' >"$TMP/policy.json"
  egress set sb1 --file "$TMP/policy.json" >/dev/null
  egress apply sb1 >/dev/null
  egress redirect up >/dev/null
  [ "$(set_members l7_sources)" = "$ADDR" ]
  [ "$(set_members dns_sources)" = "$ADDR" ]
  # DNS: through the relay (apply's input hook lets TPROXY's delivery in), learned into apply's set.
  start_resolver 198.51.100.1
  start_relay
  run guest_query 198.51.100.1 api.example.com
  assert_success
  assert_line "203.0.113.10 2"
  run learned
  assert_output --partial '"val":"203.0.113.10"'
  # TCP 443 to any address reaches the proxy's listener with its original destination...
  serve_tcp "$NS" 192.168.0.1 8443 transparent
  run guest_connect 203.0.113.77 443
  assert_success
  assert_output "local 203.0.113.77:443 peer $ADDR"
  # ...while other ports follow the address policy: the resolver's /32 is open (#526), the rest
  # of the world is not (internet disabled).
  serve_tcp "$WORLD" 198.51.100.1 8000
  run guest_connect 198.51.100.1 8000
  assert_success
  ip -n "$WORLD" addr add 198.51.100.9/24 dev w0
  serve_tcp "$WORLD" 198.51.100.9 8000
  run guest_connect 198.51.100.9 8000
  assert_failure
  # After delete + apply the address is on the default policy: no redirect, no learning.
  egress delete sb1 >/dev/null
  egress apply sb1 >/dev/null
  [ -z "$(set_members l7_sources)" ]
  [ -z "$(set_members dns_sources)" ]
}

@test "with serve: behind apply and redirect up, the proxy relays, injects and refuses; stopped, nothing leaves" {
  require_command curl
  require_command openssl
  start_guest_addr sb1
  world_cert api.test pinned.test other.test
  world_https 198.51.100.1
  # The node's resolver knows the names: the proxy checks that a name's destination is its address.
  mkdir -p "/etc/netns/$NS"
  echo "198.51.100.1 api.test pinned.test other.test" >"/etc/netns/$NS/hosts"
  tap_config '[egress]' "upstream_ca_file = \"$TMP/world-ca.crt\""
  egress ca init >/dev/null
  ca=$(egress ca path)
  printf '%s\n' '{"allowInternetAccess": false, "rules": [' \
    '{"name": "pinned", "match": {"sni": "pinned.test"}, "action": {"allow": true}},' \
    '{"name": "api-read", "match": {"sni": "api.test", "path": "/v1/*", "method": ["GET"]}, "action": {"allow": true,' \
    '  "inject": [{"header": "Authorization", "secret": "tok-5ec7e7", "format": "Bearer ${SECRET}"}]}},' \
    '{"name": "api-rest", "match": {"sni": "api.test"}, "action": {"allow": false}}]}' >"$TMP/policy.json"
  egress set sb1 --file "$TMP/policy.json" >/dev/null
  egress apply sb1 >/dev/null
  egress redirect up >/dev/null
  start_serve
  # gcurl NAME CAFILE PATH [ARG...]: HTTPS from the guest to NAME at the world server.
  gcurl() { ip netns exec "$GUEST" curl -sS -m 5 --cacert "$2" --resolve "$1:443:198.51.100.1" "https://$1$3" "${@:4}"; }
  # Relayed untouched: the guest trusts only the world's CA and gets through.
  run gcurl pinned.test "$TMP/world-ca.crt" /x
  assert_success
  [ "$(jq -r '[.path, .headers.Authorization // "-"] | join(" ")' <<<"$output")" = "/x -" ]
  # Decrypted with the cluster CA's leaf, the credential injected on the way.
  run gcurl api.test "$ca" /v1/a
  assert_success
  [ "$(jq -r .headers.Authorization <<<"$output")" = "Bearer tok-5ec7e7" ]
  run gcurl api.test "$ca" /v1/a -X POST -d x
  assert_output '{"rule":"api-rest","reason":"rule_deny"}'
  run gcurl other.test "$ca" /
  assert_failure
  [[ "$output" == *"alert access denied"* ]]
  run jq -r '[.event, .policy.decision, .policy.matched_rule // "-", .policy.reason] | join(" ")' "$TMP/audit.jsonl"
  assert_output "tls_passthrough allow pinned rule_allow
http_request allow api-read rule_allow
http_request deny api-rest rule_deny
tls_passthrough deny - not_l7_target"
  # The decrypted request names the TLS the guest spoke, and what was injected by name only.
  line=$(jq -c 'select(.policy.matched_rule == "api-read")' "$TMP/audit.jsonl")
  [ "$(jq -r '[.tls.sni, .tls.version, .credentials.injected[0]] | join(" ")' <<<"$line")" = "api.test TLSv1.3 Authorization" ]
  [[ "$(jq -r .tls.cipher <<<"$line")" == TLS_* ]]
  ! grep -q tok-5ec7e7 "$TMP/audit.jsonl" "$TMP/proxy.err"
  # Stopped, the redirect finds no socket: the connection fails instead of leaving directly.
  kill "$PROXY"
  wait "$PROXY" || true
  run gcurl pinned.test "$TMP/world-ca.crt" /x
  assert_failure
}

@test "with serve and the relay: a name is allowed at the address the policy's resolver gave the guest, while its TTL lasts" {
  require_command curl
  require_command openssl
  require_command sqlite3
  start_guest_addr sb1
  # api.example.com is 203.0.113.10 and .11 to the guest's resolver (TTL 2 s), unknown to the
  # node's: its hosts file does not name it and its resolver refuses at once.
  world_cert api.example.com
  ip -n "$WORLD" addr add 203.0.113.10/32 dev w0
  inns ip route add 203.0.113.0/24 via 198.51.100.1
  world_https 203.0.113.10
  mkdir -p "/etc/netns/$NS"
  echo "127.0.0.1 localhost" >"/etc/netns/$NS/hosts"
  echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
  # Internet allowed, so the relay forwards to any public resolver; 198.51.100.1 is the policy's.
  printf '%s\n' '{"dnsServers": ["198.51.100.1"], "rules": [' \
    '{"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]}' >"$TMP/policy.json"
  egress set sb1 --file "$TMP/policy.json" >/dev/null
  egress apply sb1 >/dev/null
  egress redirect up >/dev/null
  ip -n "$WORLD" addr add 198.51.100.3/24 dev w0
  start_resolver 198.51.100.1
  start_resolver 198.51.100.3
  start_relay
  start_serve
  gcurl() { ip netns exec "$GUEST" curl -sS -m 5 --cacert "$TMP/world-ca.crt" \
    --resolve "api.example.com:443:203.0.113.10" https://api.example.com/x; }
  reasons() { jq -r '[.event, .policy.decision, (.security.reason // .policy.reason)] | join(" ")' "$TMP/audit.jsonl"; }
  # Before the guest asked, no source says the address is the name's.
  run gcurl
  assert_failure
  [ "$(reasons)" = "security_event deny dst_not_of_name" ]
  # A resolver the policy does not name (one the sandbox could run) vouches for nothing.
  run guest_query 198.51.100.3 api.example.com
  assert_line "203.0.113.10 2"
  run gcurl
  assert_failure
  [ "$(reasons | tail -1)" = "security_event deny dst_not_of_name" ]
  [ -z "$(sqlite3 "$CUBE_STATE-names" "SELECT * FROM learned_names")" ]
  # The guest asks its resolver through the relay; the answer is kept for the proxy, not put in
  # the address set (an L7 name is reached through the proxy alone).
  run guest_query 198.51.100.1 api.example.com
  assert_line "203.0.113.10 2"
  run sqlite3 "$CUBE_STATE-names" "SELECT sandbox_id, name, address, resolver FROM learned_names ORDER BY address"
  assert_output "sb1|api.example.com|203.0.113.10|198.51.100.1
sb1|api.example.com|203.0.113.11|198.51.100.1"
  run learned
  assert_output "[]"
  run gcurl
  assert_success
  [ "$(jq -r .path <<<"$output")" = /x ]
  [ "$(reasons | tail -1)" = "tls_passthrough allow rule_allow" ]
  # Past the TTL the answer no longer counts.
  sleep 2.2
  run gcurl
  assert_failure
  [ "$(reasons | tail -1)" = "security_event deny dst_not_of_name" ]
  # A policy that denies the rest of the internet (denyOut 0.0.0.0/0): what its resolver says the
  # name is still counts, while a narrower denyOut entry does not give way to an answer.
  printf '%s\n' '{"dnsServers": ["198.51.100.1"], "denyOut": ["0.0.0.0/0", "203.0.113.11/32"], "rules": [' \
    '{"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]}' >"$TMP/policy.json"
  egress set sb1 --file "$TMP/policy.json" >/dev/null
  egress apply sb1 >/dev/null
  sleep 1.2  # the proxy's snapshot takes the policy within a second
  run guest_query 198.51.100.1 api.example.com
  assert_line "203.0.113.10 2"
  run gcurl
  assert_success
  [ "$(reasons | tail -1)" = "tls_passthrough allow rule_allow" ]
  ip -n "$WORLD" addr add 203.0.113.11/32 dev w0
  run ip netns exec "$GUEST" curl -sS -m 5 --cacert "$TMP/world-ca.crt" \
    --resolve "api.example.com:443:203.0.113.11" https://api.example.com/x
  assert_failure
  [ "$(reasons | tail -1)" = "security_event deny dst_not_of_name" ]
}

@test "dns-relay stops cleanly on SIGTERM" {
  start_relay
  kill -TERM "$DNS_RELAY"
  rc=0
  wait "$DNS_RELAY" || rc=$?
  [ "$rc" -eq 0 ] || { echo "rc $rc"; cat "$TMP/dns-relay.log"; false; }
  grep -q "stopped after" "$TMP/dns-relay.log"
}

@test "systemd units: redirect up before the relay, redirect down when stopped, the relay restarted on failure" {
  dir="$CUBE_ROOT/scripts/systemd"
  grep -q '^ExecStart=/usr/local/bin/cube-egress-rules -q redirect up$' "$dir/cube-egress-redirect.service"
  grep -q '^ExecStop=/usr/local/bin/cube-egress-rules -q redirect down$' "$dir/cube-egress-redirect.service"
  grep -q '^ExecStart=/usr/local/bin/cube-egress-rules dns-relay$' "$dir/cube-egress-dns-relay.service"
  grep -q '^Restart=on-failure$' "$dir/cube-egress-dns-relay.service"
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
  # Only the binary's absence (it is not installed here) may be reported.
  run systemd-analyze verify --man=no "$dir/cube-egress-redirect.service" "$dir/cube-egress-dns-relay.service"
  [ -z "$(grep -v 'cube-egress-rules is not executable' <<<"$output")" ] || fail "$output"
}
