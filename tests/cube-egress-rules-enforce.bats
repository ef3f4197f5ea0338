#!/usr/bin/env bats
# cube-egress-rules apply, reconcile and teardown with real traffic (man cube-egress-rules,
# "Enforcement"): a guest namespace behind a real cube-tap sandbox (tests/net/vmm_relay.cpp plays
# the VMM, as in cube-tap-datapath.bats), so the source address is the one cube-tap's taps table
# holds; a world namespace behind the uplink holds every destination on its loopback.

load tap-helpers

RELAY="$CUBE_BUILD/tests/vmm-relay"
PROBE="$CUBE_ROOT/tests/net/egress_probe.py"
WORLD_PY="$CUBE_ROOT/tests/net/egress_world.py"
# Destinations in the world: documentation, benchmark, shared and private ranges.
DSTS="10.1.2.3 10.2.0.1 172.16.5.5 172.16.5.6 203.0.113.10 203.0.113.20 203.0.113.30 203.0.113.70 203.0.113.200 198.18.1.1 198.51.100.1 192.168.100.1 169.254.1.1 100.64.0.1"

setup() {
  tap_setup
  require_command python3
  require_command bpftool
  require_command nft
  GUEST="$NS-g"
  ip netns add "$GUEST"
  ip -n "$GUEST" link set lo up
  ip -n "$NS" route add default via 198.51.100.1
  local d
  for d in $DSTS 198.51.100.53 198.51.100.54; do ip -n "$WORLD" addr add "$d/32" dev lo; done
  ip netns exec "$WORLD" sysctl -qw net.ipv4.conf.all.rp_filter=0
  tap_node
  start_server
  world tcp 9000
}

teardown() {
  [ -n "${HOST:-}" ] && ip netns del "$HOST" 2>/dev/null
  [ -n "${GUEST:-}" ] && ip netns del "$GUEST" 2>/dev/null
  tap_teardown
}

egr() { ip netns exec "$NS" cube-egress-rules "$@"; }

# A world service (egress_world.py KIND ARG...) in the world namespace.
world() {
  ip netns exec "$WORLD" python3 "$WORLD_PY" "$@" >"$TMP/world-$1" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/world-$1" listening
}

probe() { ip netns exec "$GUEST" python3 "$PROBE" "$@"; }

# Stores a policy (JSON as $2) for sandbox $1 and applies it.
policy() {
  echo "$2" | egr set "$1" --file - >/dev/null
  egr apply "$1" >/dev/null
}

# What the kernel lets through from the guest, and what check decides, one "DST allow|deny" a line each.
kernel_says() { probe tcp 9000 $DSTS; }
check_says() {
  local d
  for d in $DSTS; do printf '{"dst":"%s"}\n' "$d"; done | egr check "$1" | jq -r '.decision' | paste -d' ' <(tr ' ' '\n' <<<"$DSTS") -
}

table_json() { ip netns exec "$NS" nft -j list table inet cube_egress; }
map_elements() { table_json | jq -c '[.nftables[] | select(.map.name == "sandboxes") | .map.elem // [] | .[] | .[0]]'; }

@test "the kernel decides every destination as check does: allow and deny CIDRs, private ranges, internet disabled" {
  start_guest sb1
  # allowOut beats denyOut and the private ranges (203.0.113.64/26 inside the allowed /25; 10.1/16
  # inside 10/8), as check decides.
  policy sb1 '{"allowOut": ["10.1.0.0/16", "172.16.5.5", "203.0.113.0/25"], "denyOut": ["203.0.113.64/26", "198.18.0.0/15"]}'
  run diff <(check_says sb1) <(kernel_says)
  assert_success
  check_says sb1 | grep -q '^203.0.113.70 allow$'
  check_says sb1 | grep -q '^10.2.0.1 deny$'
  check_says sb1 | grep -q '^198.18.1.1 deny$'
  check_says sb1 | grep -q '^100.64.0.1 allow$'
  # Internet disabled: only the explicit allows.
  policy sb1 '{"allowInternetAccess": false, "allowOut": ["203.0.113.200", "10.2.0.0/16"]}'
  run diff <(check_says sb1) <(kernel_says)
  assert_success
  [ "$(kernel_says | grep -c ' allow$')" -eq 2 ]
  # A denied TCP connection is refused at once (a reset), not left to time out.
  run probe why 9000 198.51.100.1
  assert_output "refused"
}

@test "without a policy the default applies: internet allowed, private ranges denied; delete brings it back" {
  start_guest sb1
  run egr apply sb1
  assert_success
  assert_output --partial "default"
  run kernel_says
  assert_line "198.51.100.1 allow"
  assert_line "100.64.0.1 allow"
  assert_line "10.1.2.3 deny"
  assert_line "172.16.5.5 deny"
  assert_line "169.254.1.1 deny"
  assert_line "192.168.100.1 deny"
  policy sb1 '{"allowInternetAccess": false}'
  run probe tcp 9000 198.51.100.1
  assert_output "198.51.100.1 deny"
  egr delete sb1 >/dev/null
  egr apply sb1 >/dev/null
  [ "$(map_elements)" = "[]" ]
  run probe tcp 9000 198.51.100.1
  assert_output "198.51.100.1 allow"
}

@test "DNS: the resolver is allowed when the policy names a domain (#526), and not without one (#490)" {
  start_guest sb1
  world dns 203.0.113.9 198.51.100.53 198.51.100.54
  # Internet disabled and a domain: the policy's resolver is reachable, another is not.
  policy sb1 '{"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.53"]}'
  run probe dns 198.51.100.53 www.example.com
  assert_output "answered 203.0.113.9"
  run probe dns 198.51.100.54 www.example.com
  assert_output "blocked"
  # A domain named only by an L7 rule counts too.
  policy sb1 '{"allowInternetAccess": false, "dnsServers": ["198.51.100.53"], "rules": [{"name": "r", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]}'
  run probe dns 198.51.100.53 api.example.com
  assert_output "answered 203.0.113.9"
  # Internet disabled and no domain: DNS stays blocked.
  policy sb1 '{"allowInternetAccess": false, "dnsServers": ["198.51.100.53"]}'
  run probe dns 198.51.100.53 www.example.com
  assert_output "blocked"
  # Internet allowed and no domain: the resolver is just another internet address.
  policy sb1 '{"dnsServers": ["198.51.100.53"]}'
  run probe dns 198.51.100.53 www.example.com
  assert_output "answered 203.0.113.9"
}

@test "learned addresses allow until their timeout, and survive a re-apply of the same policy" {
  start_guest sb1
  policy sb1 '{"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.53"]}'
  run probe tcp 9000 203.0.113.10
  assert_output "203.0.113.10 deny"
  # As the DNS relay adds what it learns: the answer's TTL is the element's timeout.
  # 8 s leaves room for a loaded machine between the add and the probe.
  ip netns exec "$NS" nft add element inet cube_egress a_c0a80002_learned '{ 203.0.113.10 timeout 8s, 203.0.113.20 timeout 60s }'
  run probe tcp 9000 203.0.113.10 203.0.113.30
  assert_line "203.0.113.10 allow"
  assert_line "203.0.113.30 deny"
  run egr apply sb1
  assert_output --partial "kept"
  run probe tcp 9000 203.0.113.20
  assert_output "203.0.113.20 allow"
  local i
  for i in $(seq 30); do
    run probe tcp 9000 203.0.113.10 203.0.113.20
    [[ $output == *"203.0.113.10 deny"* ]] && break
    sleep 0.5
  done
  assert_line "203.0.113.10 deny"
  assert_line "203.0.113.20 allow"
  # Other names to learn: what was learned for the old ones goes.
  policy sb1 '{"allowInternetAccess": false, "allowOut": ["*.example.org"], "dnsServers": ["198.51.100.53"]}'
  run probe tcp 9000 203.0.113.20
  assert_output "203.0.113.20 deny"
}

@test "the node's own addresses are closed to a sandbox except the relay and proxy ports and ICMP on the gateway" {
  start_guest sb1
  for port in 8080 8443 8053 9999; do
    ip netns exec "$NS" python3 "$WORLD_PY" tcp "$port" >"$TMP/node-$port" 2>&1 3>&- &
    PIDS+=($!)
    wait_line "$TMP/node-$port" listening
  done
  run probe tcp 8080 198.51.100.2
  assert_output "198.51.100.2 allow"  # without the table, the uplink's address is open
  egr apply sb1 >/dev/null
  run probe tcp 8080 198.51.100.2
  assert_output "198.51.100.2 deny"
  run ip netns exec "$GUEST" ping -c 1 -W 2 169.254.68.5
  assert_success
  # The node's own connections to the sandbox get their replies.
  ip netns exec "$GUEST" python3 "$WORLD_PY" tcp 7000 >"$TMP/guest-7000" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/guest-7000" listening
  run ip netns exec "$NS" python3 "$PROBE" tcp 7000 192.168.0.2
  assert_output "192.168.0.2 allow"
  # The data path shows the guest the gateway only as 169.254.68.5, where it passes no SYN: the
  # ports on the gateway address are for TPROXYed traffic (next test). A plain host at a free
  # address of the CIDR, behind a veth, talks to it directly.
  HOST="$NS-h"
  ip netns add "$HOST"
  ip -n "$NS" link add h0 type veth peer name eth0 netns "$HOST"
  ip -n "$NS" link set h0 up
  ip -n "$NS" route add 192.168.63.200/32 dev h0
  ip -n "$HOST" addr add 192.168.63.200/32 dev eth0
  ip -n "$HOST" link set eth0 up
  ip -n "$HOST" route add 192.168.0.1/32 dev eth0
  ip -n "$HOST" route add default via 192.168.0.1
  run ip netns exec "$HOST" python3 "$PROBE" tcp 0 192.168.0.1:8080 192.168.0.1:8443 192.168.0.1:8053 192.168.0.1:9999 198.51.100.2:8080
  assert_output "$(printf '%s\n' '192.168.0.1:8080 allow' '192.168.0.1:8443 allow' '192.168.0.1:8053 allow' '192.168.0.1:9999 deny' '198.51.100.2:8080 deny')"
  run ip netns exec "$HOST" ping -c 1 -W 2 192.168.0.1
  assert_success
  run ip netns exec "$HOST" ping -c 1 -W 1 198.51.100.2
  assert_failure
}

@test "a TPROXYed connection reaches a listener on the node through the input hook, its destination intact" {
  start_guest sb1
  policy sb1 '{"allowInternetAccess": false, "rules": [{"name": "r", "match": {"host": "203.0.113.7"}, "action": {"allow": true}}]}'
  # What the redirect verb installs, in a table of the test's own.
  ip netns exec "$NS" nft -f - <<'NFT'
table inet test_tproxy {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    ip saddr 192.168.0.0/18 tcp dport 443 tproxy ip to 192.168.0.1:8443 meta mark set 0x1 accept
  }
}
NFT
  ip -n "$NS" rule add fwmark 0x1 lookup 100
  ip -n "$NS" route add local 0.0.0.0/0 dev lo table 100
  ip netns exec "$NS" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
s.bind(("192.168.0.1", 8443)); s.listen(8); print("listening", flush=True)
c, peer = s.accept(); print("dst %s:%d from %s" % (c.getsockname() + (peer[0],)), flush=True)' >"$TMP/tproxy" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/tproxy" listening
  run probe tcp 443 203.0.113.7
  assert_output "203.0.113.7 allow"
  wait_line "$TMP/tproxy" "dst 203.0.113.7:443 from 192.168.0.2"
}

@test "a reused address never carries the previous sandbox's rules" {
  start_guest sb1
  policy sb1 '{"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.53"]}'
  ip netns exec "$NS" nft add element inet cube_egress a_c0a80002_learned '{ 203.0.113.10 timeout 60s }'
  run probe tcp 9000 198.51.100.1
  assert_output "198.51.100.1 deny"
  tapx release sb1 >/dev/null
  run egr apply sb1
  assert_success
  assert_output --partial "default"
  [ "$(map_elements)" = "[]" ]
  [ "$(table_json | jq '[.nftables[] | select(.chain.name? // .set.name? // "" | startswith("a_"))] | length')" -eq 0 ]
  [ "$(table_json | jq -c '[.nftables[] | select(.set.name == "dns_sources") | .set.elem // [] | .[]]')" = "[]" ]
  # sb2 takes the pooled TAP, and so the address: without a policy it has the default.
  tapx ensure sb2 >/dev/null
  [ "$(tapx show sb2 -o json | jq -r .address)" = "192.168.0.2" ]
  egr apply sb2 >/dev/null
  [ "$(map_elements)" = "[]" ]
  run probe tcp 9000 198.51.100.1 203.0.113.10
  assert_line "198.51.100.1 allow"
  # With a policy of its own, its chain names it and the old learned address is gone.
  policy sb2 '{"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.53"]}'
  run probe tcp 9000 203.0.113.10
  assert_output "203.0.113.10 deny"
  ip netns exec "$NS" nft -t list chain inet cube_egress a_c0a80002 | grep -q 'comment "sandbox=sb2 '
  # An apply of the released sandbox now leaves sb2's rules alone.
  egr apply sb1 >/dev/null
  ip netns exec "$NS" nft -t list chain inet cube_egress a_c0a80002 | grep -q 'comment "sandbox=sb2 '
}

@test "a policy change with live connects never opens what both policies refuse" {
  start_guest sb1
  a='{"allowInternetAccess": false, "allowOut": ["203.0.113.10"], "denyOut": []}'
  b='{"allowInternetAccess": false, "allowOut": ["203.0.113.20"]}'
  policy sb1 "$a"
  probe race 9000 10 203.0.113.10 203.0.113.20 203.0.113.30 >"$TMP/race" &
  racer=$!
  PIDS+=($racer)
  end=$((SECONDS + 9))
  n=0
  while [ $SECONDS -lt $end ]; do
    policy sb1 "$b"
    policy sb1 "$a"
    n=$((n + 2))
  done
  wait "$racer"
  cat "$TMP/race" >&3
  echo "# $n applies" >&3
  grep -q '^203.0.113.30 ok 0 of ' "$TMP/race"
  # Both allowed destinations got through at some point: each policy was in force during the race
  # (on a loaded machine there are fewer changes, never none).
  ! grep -q '^203.0.113.10 ok 0 ' "$TMP/race"
  ! grep -q '^203.0.113.20 ok 0 ' "$TMP/race"
  [ "$n" -ge 4 ]
}

@test "reconcile finds and fixes drift; --dry-run only reports it" {
  tapx ensure sb1 >/dev/null
  tapx ensure sb2 >/dev/null
  echo '{"allowInternetAccess": false, "allowOut": ["203.0.113.0/24"], "rules": [{"name": "r", "match": {"host": "203.0.113.5"}, "action": {"allow": true}}]}' |
    egr set sb1 --file - >/dev/null
  run egr reconcile --dry-run -o json
  assert_success
  echo "$output" | jq -e 'any(.[]; .object == "table inet cube_egress")'
  run ip netns exec "$NS" nft list table inet cube_egress
  assert_failure
  egr reconcile >/dev/null
  run egr reconcile -o json
  assert_output "[]"
  # Damage: a flushed set, a rule added, a stray map element and set member, a chain for a free address.
  ip netns exec "$NS" nft flush set inet cube_egress a_c0a80002_allow
  ip netns exec "$NS" nft add rule inet cube_egress a_c0a80002 accept
  ip netns exec "$NS" nft add element inet cube_egress l7_sources '{ 192.168.0.9 }'
  ip netns exec "$NS" nft add chain inet cube_egress a_c0a80003
  ip netns exec "$NS" nft add element inet cube_egress sandboxes '{ 192.168.0.3 : goto a_c0a80003 }'
  ip netns exec "$NS" nft flush chain inet cube_egress sandbox_in
  run egr reconcile --dry-run -o json
  echo "$output" | jq -e 'any(.[]; .object == "set a_c0a80002_allow")'
  echo "$output" | jq -e 'any(.[]; .object == "chain a_c0a80002" and .problem == "rules differ")'
  echo "$output" | jq -e 'any(.[]; .object == "set l7_sources" and .address == "192.168.0.9")'
  echo "$output" | jq -e 'any(.[]; .address == "192.168.0.3" and .sandbox == "sb2")'
  echo "$output" | jq -e 'any(.[]; .object == "chain sandbox_in")'
  egr reconcile >/dev/null
  run egr reconcile -o json
  assert_output "[]"
  [ "$(map_elements)" = '["192.168.0.2"]' ]
}

@test "another table made first is left untouched, and teardown leaves nothing of ours" {
  ip netns exec "$NS" nft -f - <<'NFT'
table inet other {
  set s {
    type ipv4_addr
    elements = { 192.168.0.2 }
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr @s counter accept
  }
}
table ip keep {
  chain c {
  }
}
NFT
  before=$(ip netns exec "$NS" nft list table inet other; ip netns exec "$NS" nft list table ip keep)
  tapx ensure sb1 >/dev/null
  policy sb1 '{"allowInternetAccess": false}'
  egr apply --all >/dev/null
  ip netns exec "$NS" nft flush chain inet cube_egress a_c0a80002
  egr reconcile >/dev/null
  run egr teardown -o json
  assert_success
  echo "$output" | jq -e '.removed == true'
  after=$(ip netns exec "$NS" nft list table inet other; ip netns exec "$NS" nft list table ip keep)
  [ "$before" = "$after" ]
  run ip netns exec "$NS" nft list tables
  refute_output --partial cube_egress
  assert_output --partial "table inet cube_tap"
  run egr teardown -o json
  echo "$output" | jq -e '.removed == false'
}

@test "bad input: usage errors and a node without cube-tap setup change nothing" {
  run egr apply
  assert_failure 2
  run egr apply sb1 --all
  assert_failure 2
  run egr apply 'bad/id'
  assert_failure 2
  run ip netns exec "$NS" nft list table inet cube_egress
  assert_failure
  printf '[egress]\nproxy_tls_port = 70000\n' >>"$CUBE_CONFIG"
  run egr apply --all
  assert_failure 2
  assert_output --partial "proxy_tls_port"
  tap_config
  # A fresh node namespace whose state file has no cube-tap setup.
  export CUBE_STATE="$TMP/empty.db"
  run egr apply --all
  assert_failure 3
  assert_output --partial "cube-tap setup"
  run egr reconcile
  assert_failure 3
  run ip netns exec "$NS" nft list table inet cube_egress
  assert_failure
  # A sandbox that has neither a TAP nor rules in the kernel: nothing to do, nothing made.
  export CUBE_STATE="$TMP/state.db"
  run egr apply nosuch
  assert_success
  run ip netns exec "$NS" nft list table inet cube_egress
  assert_success  # the shared chains: every sandbox address has the default policy
  [ "$(map_elements)" = "[]" ]
}

@test "a transaction the kernel refuses changes nothing; reconcile repairs a set redefined by hand" {
  tapx ensure sb1 >/dev/null
  tapx ensure sb2 >/dev/null
  policy sb1 '{"allowOut": ["203.0.113.7"]}'
  echo '{"allowOut": ["203.0.113.8"]}' | egr set sb1 --file - >/dev/null
  echo '{"allowInternetAccess": false}' | egr set sb2 --file - >/dev/null
  # sb2's deny set exists with another definition: nftables refuses the whole batch.
  ip netns exec "$NS" nft add set inet cube_egress a_c0a80003_deny '{ type ipv4_addr; }'
  before=$(ip netns exec "$NS" nft list table inet cube_egress)
  run egr apply --all
  assert_failure 1
  assert_output --partial "applying every sandbox's egress policy"
  assert_output --partial "run cube-egress-rules reconcile"
  [ "$(ip netns exec "$NS" nft list table inet cube_egress)" = "$before" ]
  echo "$before" | grep -q 'comment "sandbox=sb1 revision=1 '
  # reconcile makes the set again, with its definition, and applies the rest.
  run egr reconcile -o json
  assert_success
  echo "$output" | jq -e 'any(.[]; .object == "set a_c0a80003_deny" and .problem == "defined as ipv4_addr")'
  run egr reconcile -o json
  assert_output "[]"
  ip netns exec "$NS" nft -t list chain inet cube_egress a_c0a80002 | grep -q 'comment "sandbox=sb1 revision=2 '
}

@test "set --apply stores and installs in one call; when the kernel refuses, nothing is stored" {
  tapx ensure sb1 >/dev/null
  tapx ensure sb2 >/dev/null
  run egr set sb1 --file - --apply <<<'{"allowOut": ["203.0.113.7"]}'
  assert_success
  ip netns exec "$NS" nft -t list chain inet cube_egress a_c0a80002 | grep -q 'comment "sandbox=sb1 revision=1 '
  # sb2's deny set exists with another definition: nftables refuses the batch, and the policy the
  # kernel refused is not stored either.
  ip netns exec "$NS" nft add set inet cube_egress a_c0a80003_deny '{ type ipv4_addr; }'
  run egr set sb2 --file - --apply <<<'{"allowInternetAccess": false}'
  assert_failure 1
  run egr show sb2
  assert_failure 3
}
