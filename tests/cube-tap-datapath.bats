#!/usr/bin/env bats
# The eBPF data path with real traffic (doc/datapath.md): a guest namespace behind a sandbox TAP,
# reached through tests/net/vmm_relay.cpp, which takes the TAP's fd from `cube-tap get-fd --exec`
# as a VMM would; a world namespace behind the uplink. Real ping, curl and servers on both sides.

load tap-helpers

RELAY="$CUBE_BUILD/tests/vmm-relay"

setup() {
  tap_setup
  require_command curl
  require_command python3
  require_command bpftool
  GUEST="$NS-g"
  ip netns add "$GUEST"
  ip -n "$GUEST" link set lo up
  tap_node
  start_server
}

teardown() {
  [ -n "${GUEST:-}" ] && ip netns del "$GUEST" 2>/dev/null
  tap_teardown
}

# An HTTP server in namespace $1 on address $2 port $3 that names the client it saw.
serve_http() {
  ip netns exec "$1" python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("client " + self.client_address[0] + "\n").encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H)
print("listening", flush=True)
s.serve_forever()' "$2" "$3" >"$TMP/http-$1-$3" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/http-$1-$3" listening
}

# A pinned map's entries as JSON (bpftool prints maps with BTF as JSON; -j would print raw bytes).
dump() { bpftool map dump pinned "$BPF_DIR/v1/$1"; }

# One counter of a TAP, summed over the CPUs, as `cube-tap bpf stats` reports it.
counter() { tapx bpf stats -o json | jq --arg t "$1" ".[] | select(.tap == \$t) | .$2"; }

@test "the guest pings its gateway and reaches a world server through the kernel path, as the node" {
  start_guest sb1
  run ip netns exec "$GUEST" ping -c 2 -W 2 169.254.68.5
  assert_success
  serve_http "$WORLD" 198.51.100.1 8000
  run ip netns exec "$GUEST" curl -sS -m 5 http://198.51.100.1:8000/
  assert_success
  assert_output "client 198.51.100.2"  # masqueraded to the uplink's address
  tap=$(tapx show sb1 -o json | jq -r .tap)
  [ "$(counter "$tap" arp_reply)" -ge 1 ]
  [ "$(counter "$tap" rewritten)" -ge 4 ]
}

@test "the world reaches the guest's server through a mapped host port, both ways on the fast path" {
  start_guest sb1 --port 8080:20001
  serve_http "$GUEST" 169.254.68.6 8080
  run ip netns exec "$WORLD" curl -sS -m 5 http://198.51.100.2:20001/
  assert_success
  assert_output "client 198.51.100.1"  # the world client's own address, untouched
  tap=$(tapx show sb1 -o json | jq -r .tap)
  [ "$(counter "$tap" fast_in)" -ge 3 ]
  [ "$(counter "$tap" fast_out)" -ge 2 ]
}

@test "a SYN the guest sends from an exposed port is dropped and counted; from another port it leaves" {
  start_guest sb1 --port 8080:20001
  serve_http "$WORLD" 198.51.100.1 9000
  tap=$(tapx show sb1 -o json | jq -r .tap)
  run ip netns exec "$GUEST" curl -sS -m 2 --local-port 8080 http://198.51.100.1:9000/
  assert_failure
  [ "$(counter "$tap" syn_drop)" -ge 1 ]
  run ip netns exec "$GUEST" curl -sS -m 5 --local-port 8081 http://198.51.100.1:9000/
  assert_success
  assert_output "client 198.51.100.2"
}

@test "TCP, UDP (with and without a checksum) and ICMP arrive intact, and 20 MB cross both ways" {
  start_guest sb1 --port 8080:20001
  # UDP: the world echoes what it receives; a zero checksum must survive the rewrite as zero.
  ip netns exec "$WORLD" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.1", 5353)); print("listening", flush=True)
while True:
    d, a = s.recvfrom(2048); s.sendto(d, a)' >"$TMP/udp" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$TMP/udp" listening
  for nocsum in 0 1; do
    run ip netns exec "$GUEST" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[1] == "1": s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK: send a zero UDP checksum
s.settimeout(3); s.sendto(b"ping-%s" % sys.argv[1].encode(), ("198.51.100.1", 5353)); print(s.recv(100).decode())' "$nocsum"
    assert_success
    assert_output "ping-$nocsum"
  done
  run ip netns exec "$GUEST" ping -c 1 -W 2 -s 1200 198.51.100.1
  assert_success
  # 20 MB each way with TX offloads on: a bad checksum or a torn segment breaks the hash.
  head -c 20000000 /dev/urandom >"$TMP/blob"
  ip netns exec "$WORLD" python3 -m http.server 8001 --bind 198.51.100.1 -d "$TMP" >"$TMP/w8001" 2>&1 3>&- &
  PIDS+=($!)
  ip netns exec "$GUEST" python3 -m http.server 8080 --bind 169.254.68.6 -d "$TMP" >"$TMP/g8080" 2>&1 3>&- &
  PIDS+=($!)
  for i in $(seq 100); do
    ip netns exec "$WORLD" ss -ltn | grep -q :8001 && ip netns exec "$GUEST" ss -ltn | grep -q :8080 && break
    sleep 0.05
  done
  ip netns exec "$GUEST" curl -sS -m 60 -o "$TMP/down" http://198.51.100.1:8001/blob
  ip netns exec "$WORLD" curl -sS -m 60 -o "$TMP/up" http://198.51.100.2:20001/blob
  want=$(sha256sum <"$TMP/blob")
  [ "$(sha256sum <"$TMP/down")" = "$want" ]
  [ "$(sha256sum <"$TMP/up")" = "$want" ]
}

@test "two sandboxes cannot reach each other's guest address; a released TAP's map entries are gone" {
  start_guest sb1 --port 8080:20001
  tapx ensure sb2 >/dev/null
  tap1=$(tapx show sb1 -o json | jq -r .tap)
  ifindex=$(inns cat "/sys/class/net/$tap1/ifindex")
  meta() { dump tap_meta | jq --argjson k "$ifindex" '[.[] | select(.key == $k)] | length'; }
  [ "$(meta)" = 1 ]
  addr2=$(tapx show sb2 -o json | jq -r .address)
  run ip netns exec "$GUEST" ping -c 1 -W 1 "$addr2"  # no route between sandboxes' guest sides
  assert_failure
  tapx release sb1 >/dev/null
  [ "$(meta)" = 0 ]
  [ "$(dump host_port | jq length)" = 0 ]
}

@test "teardown detaches everything and leaves no pin" {
  tapx ensure sb1 --port 8080 >/dev/null
  [ -e "$BPF_DIR/v1/prog_from_cube" ]
  run inns tc filter show dev up0 ingress
  assert_output --partial from_world
  tapx release sb1 >/dev/null
  tapx teardown >/dev/null
  [ ! -e "$BPF_DIR/v1" ]
  run inns tc filter show dev up0 ingress
  refute_output --partial from_world
}

@test "reconcile reloads a data path whose pins were lost (a reboot) and refills the maps" {
  tapx ensure sb1 --port 8080:20001 >/dev/null
  umount "$BPF_DIR" && mount -t bpf bpf "$BPF_DIR"  # an empty BPF file system, as after a reboot
  tapx reconcile >/dev/null
  tap=$(tapx show sb1 -o json | jq -r .tap)
  ifindex=$(inns cat "/sys/class/net/$tap/ifindex")
  [ "$(dump tap_meta | jq --argjson k "$ifindex" '[.[] | select(.key == $k)] | length')" = 1 ]
  [ "$(dump host_port | jq '[.[] | select(.key == 20001)] | length')" = 1 ]
}

@test "a fast-path packet over the uplink's MTU takes the kernel path, whose ICMP error lowers the guest's path MTU" {
  start_guest sb1 --port 8080:20001
  # The uplink carries less than the guest's 1500, while the world's MSS still says 1460: every full
  # segment of the guest's reply is too big for the fast path's route.
  inns ip link set up0 mtu 1280
  head -c 2000000 /dev/urandom >"$TMP/blob"
  ip netns exec "$GUEST" python3 -m http.server 8080 --bind 169.254.68.6 -d "$TMP" >"$TMP/g8080" 2>&1 3>&- &
  PIDS+=($!)
  for i in $(seq 100); do ip netns exec "$GUEST" ss -ltn | grep -q :8080 && break; sleep 0.05; done
  run ip netns exec "$WORLD" curl -sS -m 20 -o "$TMP/up" http://198.51.100.2:20001/blob
  assert_success
  [ "$(sha256sum <"$TMP/up")" = "$(sha256sum <"$TMP/blob")" ]
  tap=$(tapx show sb1 -o json | jq -r .tap)
  [ "$(counter "$tap" fast_to_kernel)" -ge 1 ]
  [ "$(counter "$tap" fast_out)" -ge 10 ]  # once the guest learnt the path MTU, the fast path again
  # The kernel's "fragmentation needed" reached the guest's socket (to_cube fixed the quote).
  run ip netns exec "$GUEST" ip route get 198.51.100.1
  assert_output --partial "mtu 1280"
}

@test "bpf status: programs with ids and tags, every attach point, pinned maps with their fill" {
  tapx ensure sb1 --port 8080:20001 >/dev/null
  tapx ensure sb2 >/dev/null
  tapx bpf status -o json >"$TMP/status"
  jq -e --arg d "$BPF_DIR/v1" '.[] | select(.kind == "layout") | .name == "v1" and .state == "installed" and .path == $d' "$TMP/status"
  [ "$(jq '[.[] | select(.kind == "program" and .id > 0 and (.tag | test("^[0-9a-f]{16}$")))] | length' "$TMP/status")" = 3 ]
  want=$(bpftool prog show pinned "$BPF_DIR/v1/prog_from_cube" -j | jq .id)
  [ "$(jq '.[] | select(.kind == "program" and .name == "from_cube") | .id' "$TMP/status")" = "$want" ]
  jq -e '.[] | select(.kind == "attach" and .interface == "up0") | .name == "from_world" and .hook == "ingress" and .state == "attached"' "$TMP/status"
  tap=$(tapx show sb1 -o json | jq -r .tap)
  [ "$(jq --arg t "$tap" '[.[] | select(.kind == "attach" and .interface == $t and .sandbox == "sb1" and .state == "attached") | "\(.hook):\(.name)"] | sort | join(",")' -r "$TMP/status")" = "egress:to_cube,ingress:from_cube" ]
  [ "$(jq '.[] | select(.kind == "map" and .name == "tap_meta") | [.entries, .max_entries] | join("/")' -r "$TMP/status")" = "2/8192" ]
  [ "$(jq '.[] | select(.kind == "map" and .name == "host_port") | [.entries, .max_entries] | join("/")' -r "$TMP/status")" = "1/65536" ]
  [ "$(jq '[.[] | select(.kind == "map")] | length' "$TMP/status")" = 6 ]
  # A filter removed behind cube-tap's back shows as missing; the table form is for people.
  inns tc filter del dev "$tap" egress
  run tapx bpf status -o json
  jq -e --arg t "$tap" '.[] | select(.kind == "attach" and .interface == $t and .hook == "egress") | .state == "missing" and .id == null' <<<"$output"
  run tapx bpf status
  assert_success
  assert_line --partial KIND
  tapx release sb1 >/dev/null
  tapx release sb2 >/dev/null
  tapx teardown >/dev/null
  run tapx bpf status -o json
  assert_success
  jq -e 'length == 1 and .[0].kind == "layout" and .[0].state == "not_installed"' <<<"$output"
}

@test "bpf stats: one row per TAP, a sandbox's alone, and packets from a TAP the maps forgot" {
  start_guest sb1
  tapx ensure sb2 >/dev/null
  ip netns exec "$GUEST" ping -c 1 -W 2 169.254.68.5 >/dev/null
  tapx bpf stats -o json >"$TMP/stats"
  [ "$(jq '[.[] | select(.tap != null)] | length' "$TMP/stats")" = 2 ]
  jq -e '.[] | select(.sandbox == "sb1") | .arp_reply >= 1 and .rewritten >= 2 and .syn_drop == 0' "$TMP/stats"
  jq -e '.[] | select(.tap == null) | .unknown_tap == 0 and .ifindex == null' "$TMP/stats"
  run tapx bpf stats sb2 -o json
  jq -e 'length == 1 and .[0].sandbox == "sb2" and .[0].rewritten == 0' <<<"$output"
  run tapx bpf stats nosuch
  assert_failure 3
  # The maps lose sb1 (as a crash between steps could): its packets are dropped and counted.
  tap=$(tapx show sb1 -o json | jq -r .tap)
  ifindex=$(inns cat "/sys/class/net/$tap/ifindex")
  bpftool map delete pinned "$BPF_DIR/v1/tap_meta" key $(printf '%d %d %d %d' $((ifindex & 255)) $((ifindex >> 8 & 255)) 0 0)
  run ip netns exec "$GUEST" ping -c 1 -W 1 169.254.68.5
  assert_failure
  [ "$(tapx bpf stats -o json | jq '.[] | select(.tap == null) | .unknown_tap')" -ge 1 ]
  tapx reconcile >/dev/null
  run ip netns exec "$GUEST" ping -c 1 -W 2 169.254.68.5
  assert_success
}

@test "bpf stats where the data path is not installed says how to install it" {
  printf '[tap]\nbpf_pin_dir = "%s"\n' "$BPF_DIR/elsewhere" >"$CUBE_CONFIG"
  run tapx bpf stats
  assert_failure 1
  assert_output --partial "run cube-tap setup"
}
