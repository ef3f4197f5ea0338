#!/usr/bin/env bash
# cube-tap's data path with real traffic: a node namespace with an uplink to a "world" namespace,
# and a "guest" namespace behind a sandbox TAP, reached through tests/net/vmm_relay.cpp, which
# takes the TAP's fd from `cube-tap get-fd --exec` as a VMM would. The guest curls a server in the
# world (kernel path, masqueraded), the world curls a server in the guest through a mapped host
# port (eBPF fast path), and `cube-tap bpf stats` shows which path each packet took. Everything the
# chapter makes (namespaces, BPF file system, servers) is removed on the way out.
set -euo pipefail
relay="${CUBE_BUILD:-$CUBE_ROOT/build}/tests/vmm-relay"
if [ "$(id -u)" -ne 0 ]; then
  say "cube-tap data path: skipped (it needs root for network namespaces and BPF)"
  exit 0
fi
for cmd in curl python3; do
  command -v "$cmd" >/dev/null || { say "cube-tap data path: skipped ($cmd is not installed)"; exit 0; }
done
ns="cube-demo-dp-$$"
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
  umount "$DEMO_DIR/dp-bpf" 2>/dev/null || true
}
trap cleanup EXIT
. "$CUBE_ROOT/scripts/demo/lib/net.bash"
# An HTTP server in namespace $1 on $2:$3 that answers with a greeting naming the client it saw.
serve_http() {
  ip netns exec "$1" python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from %s, you are %s\n" % (sys.argv[3], self.client_address[0])).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H)
print("listening", flush=True)
s.serve_forever()' "$2" "$3" "$4" >"$DEMO_DIR/http-$3" 2>&1 &
  pids+=($!)
  wait_line "$DEMO_DIR/http-$3" listening
}

mkdir -p "$DEMO_DIR/dp-bpf"
mount -t bpf bpf "$DEMO_DIR/dp-bpf"
export CUBE_CONFIG="$DEMO_DIR/dp.toml"
printf '[tap]\nbpf_pin_dir = "%s"\n' "$DEMO_DIR/dp-bpf" >"$CUBE_CONFIG"

say "cube-tap data path: a node, a world behind its uplink, and a guest behind a sandbox TAP"
ip netns add "$ns"
ip netns add "$world"
ip netns add "$guest"
for n in "$ns" "$world" "$guest"; do ip -n "$n" link set lo up; done
ip -n "$ns" link add up0 type veth peer name w0 netns "$world"
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up
ip -n "$world" addr add 198.51.100.1/24 dev w0
ip -n "$world" link set w0 up
node cube-tap setup --uplink up0 -o json | jq -c '{uplink, uplink_address, gateway}'
node cube-tap ensure sb-web --port 8080:20080 -o json | jq -c '{sandbox, tap, address, ports}'

say "A VMM takes the TAP's fd from serve; the guest configures eth0 as every cube guest does"
ip netns exec "$ns" cube-tap -v serve --socket "$DEMO_DIR/dp.sock" 2>"$DEMO_DIR/dp-serve.log" &
pids+=($!)
wait_line "$DEMO_DIR/dp-serve.log" 'serving TAP fds'
node cube-tap get-fd sb-web --socket "$DEMO_DIR/dp.sock" --exec \
  "$relay" --guest-netns "/run/netns/$guest" --guest-tap eth0 >"$DEMO_DIR/relay.out" 2>&1 &
pids+=($!)
wait_line "$DEMO_DIR/relay.out" ready
guest_eth0
guest ip -br addr show eth0
guest ping -c 1 -W 2 169.254.68.5 | grep 'bytes from'

say "The guest curls the world: from_cube rewrites its address, the kernel masquerades it"
serve_http "$world" 198.51.100.1 8000 world
guest curl -sS -m 5 http://198.51.100.1:8000/

say "The world curls the guest through host port 20080: from_world in, from_cube straight out"
serve_http "$guest" 169.254.68.6 8080 "the guest"
world curl -sS -m 5 http://198.51.100.2:20080/

say "What each program did, per TAP (rewritten: kernel path; fast_in/fast_out: the fast path)"
node cube-tap bpf stats sb-web
node cube-tap bpf status -o json | jq -c '.[] | select(.kind != "map") | {kind, name, interface, hook, state}'

say "Teardown detaches the programs and unpins everything"
node cube-tap release sb-web >/dev/null
node cube-tap teardown --force -o json | jq -c .
echo "layout directories left on the BPF file system: $(find "$DEMO_DIR/dp-bpf" -mindepth 1 -name 'v*' | wc -l)"
