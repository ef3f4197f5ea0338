#!/usr/bin/env bash
# The whole platform at once: cube-sandbox boots a real microVM (QEMU; TCG where there is no KVM)
# from a tiny busybox web server image packed with umoci, placed by cube-sched, its rootfs made by
# cube-rootfs, its network from cube-tap, held to an egress policy by cube-egress-rules, its console
# in a CRI log by cube-logs; the world reaches it through a mapped port, it makes requests out (one
# allowed, one refused), the version matrix names what runs, and down leaves nothing behind. All of
# it in a node namespace and a "world" namespace made for the demo (198.51.100.0/24, the
# documentation range): the host's interfaces, routes and firewall are never touched.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  say "cube-sandbox: skipped (it needs root for network namespaces, TAPs and BPF)"
  exit 0
fi
for cmd in qemu-system-x86_64 umoci curl python3; do
  command -v "$cmd" >/dev/null || { say "cube-sandbox: skipped ($cmd is not installed)"; exit 0; }
done
if [ -n "${CUBE_DEMO_QUICK:-}" ]; then
  say "cube-sandbox: skipped (CUBE_DEMO_QUICK is set: no microVM boot; tests/cube-sandbox.bats boots one)"
  exit 0
fi
scripts="$CUBE_ROOT/scripts"
sandbox="$scripts/cube-sandbox"
ns="cube-demo-sb-$$"
world="$ns-w"
pids=()
cleanup() {
  local p
  # A sandbox the demo did not get to take down: its VMM first, then what its journal names.
  [ -d "$DEMO_DIR/sb-run/web1" ] && ip netns exec "$ns" "$sandbox" -q down web1 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$world" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  umount "$DEMO_DIR/sb-bpf" 2>/dev/null || true
}
trap cleanup EXIT
. "$CUBE_ROOT/scripts/demo/lib/net.bash"
# A server in the world on $1:$2 that answers with the request's headers.
world_server() {
  ip netns exec "$world" python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "(none)")
        body = ("hello from the world at %s; Authorization: %s\n" % (sys.argv[1], auth)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H)
print("listening", flush=True)
s.serve_forever()' "$1" "$2" >"$DEMO_DIR/world-$1-$2" 2>&1 &
  pids+=($!)
  wait_line "$DEMO_DIR/world-$1-$2" listening
}

say "cube-sandbox: the guest — Debian's cloud kernel and a busybox initramfs, from Debian packages"
run "$scripts/guest/build-initramfs" >"$DEMO_DIR/guest-dir" || {
  say "cube-sandbox: skipped (the guest's Debian packages could not be fetched)"
  exit 0
}
guest=$(tail -1 "$DEMO_DIR/guest-dir")
echo "kernel $(cat "$guest/kernel-version"), initramfs $(du -h "$guest/initramfs.gz" | cut -f1) in $guest"

say "A tiny image: busybox httpd on port 8080, packed with umoci (no registry, no Docker)"
run "$scripts/guest/build-web-image" "$DEMO_DIR/web" "$guest/busybox"
manifest=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$DEMO_DIR/web/index.json")
config=$(jq -r '.config.digest | sub("sha256:"; "")' "$DEMO_DIR/web/blobs/sha256/$manifest")
echo "its config (what the guest will run):"
jq -c '.config | {Entrypoint, Cmd, ExposedPorts}' "$DEMO_DIR/web/blobs/sha256/$config"

# The node: a namespace with uplink up0 to the world; its own BPF file system and config.
ip netns add "$ns"
ip netns add "$world"
ip -n "$ns" link set lo up
ip -n "$world" link set lo up
ip -n "$ns" link add up0 type veth peer name w0 netns "$world"
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up
for a in 198.51.100.1 198.51.100.3; do ip -n "$world" addr add "$a/24" dev w0; done
ip -n "$world" link set w0 up
mkdir -p "$DEMO_DIR/sb-bpf"
mount -t bpf bpf "$DEMO_DIR/sb-bpf"
# A state file of its own: the other chapters' nodes must not be candidates for placement.
export CUBE_STATE="$DEMO_DIR/sandbox.db"
export CUBE_CONFIG="$DEMO_DIR/sandbox.toml"
cat >"$CUBE_CONFIG" <<TOML
[tap]
bpf_pin_dir = "$DEMO_DIR/sb-bpf"
socket = "$DEMO_DIR/tap.sock"
pool_max = 0
[rootfs]
store = "$DEMO_DIR/sb-store"
cluster_ca = "none"
[logs]
root = "$DEMO_DIR/sb-logs"
[sandbox]
node = "node-1"
run_dir = "$DEMO_DIR/sb-run"
guest_dir = "$guest"
TOML

say "A node: registered with cube-sched, its network set up, the TAP fd server running"
printf '\033[2m$ cube-sched node register node-1 --cpu 4 --mem 4G\033[0m\n'
cube-sched -q node register node-1 --cpu 4 --mem 4G >/dev/null
cube-sched heartbeat node-1 --loop 5s --cpu-util 5 --mem-free 3G >/dev/null 2>&1 &
pids+=($!)
node cube-tap setup --uplink up0 -o json | jq -c '{uplink, uplink_address, gateway}'
ip netns exec "$ns" cube-tap serve 2>"$DEMO_DIR/sb-serve.log" &
pids+=($!)
wait_line "$DEMO_DIR/sb-serve.log" 'serving TAP fds' || true
world_server 198.51.100.1 8000
world_server 198.51.100.3 8000

say "The sandbox's egress policy: 198.51.100.1 allowed, the rest refused (the proxy's chapter shows L7 rules)"
cat >"$DEMO_DIR/web1.json" <<'JSON'
{
  "allowInternetAccess": false,
  "allowOut": ["198.51.100.1/32"]
}
JSON
jq -c . "$DEMO_DIR/web1.json"

say "One command boots it: place, rootfs, TAP, policy, then QEMU through get-fd under cube-logs forward"
node "$sandbox" -v up "oci:$DEMO_DIR/web:web" --name web1 --cpu 1 --mem 256M --port 8080:20080 \
  --policy "$DEMO_DIR/web1.json"

say "The guest boots (TCG is slow: tens of seconds); the world reaches its httpd through host port 20080"
t0=$(date +%s)
for _ in $(seq 360); do
  ip netns exec "$world" curl -s -m 2 -o /dev/null http://198.51.100.2:20080/ && break
  sleep 0.5
done
echo "(answered $(($(date +%s) - t0)) s after up returned)"
world curl -sS -m 5 http://198.51.100.2:20080/

say "From the sandbox (its fetch CGI runs busybox wget in the guest): an allowed request"
world curl -sS -m 20 "http://198.51.100.2:20080/cgi-bin/fetch?http://198.51.100.1:8000/"

say "And a refused one: 198.51.100.3 is not allowed, so the guest's connection is reset"
world curl -sS -m 20 "http://198.51.100.2:20080/cgi-bin/fetch?http://198.51.100.3:8000/"

say "The guest's console is the sandbox's CRI log"
node "$sandbox" logs web1 --tail 6
node "$sandbox" list

say "What runs where: the node's versions, the guest kernel among them"
cube-versions manifest --release-version 0.4.0 --guest-image-version 1.0.0 \
  --kernel-version "$(cat "$guest/kernel-version")" --vmlinux "$guest/vmlinuz" \
  --bin-dir "${CUBE_BUILD:-$CUBE_ROOT/build}/bin" --out "$DEMO_DIR/sb-manifest.json" >/dev/null
mkdir -p "$DEMO_DIR/sb-base/cube-image"
cp "$DEMO_DIR/sb-manifest.json" "$DEMO_DIR/sb-base/release-manifest.json"
echo 1.0.0 >"$DEMO_DIR/sb-base/cube-image/version"
cube-versions -q collect --base "$DEMO_DIR/sb-base" --node node-1 --report >/dev/null
run cube-versions matrix --manifest "$DEMO_DIR/sb-manifest.json" --node node-1

say "down undoes it in reverse: the VMM, the TAP, the policy, the allocation, the journal and the log"
node "$sandbox" down web1
node cube-tap list
node cube-sched alloc list
node cube-egress-rules list
echo "VMM processes left: $(ps -eo args | grep -c "^qemu-system-x86_64 -name web1" || true)"
echo "sandbox chains left in inet cube_egress: $(ip netns exec "$ns" nft list table inet cube_egress 2>/dev/null | grep -c 'chain a_' || true)"
node cube-tap teardown --force >/dev/null
node cube-egress-rules teardown >/dev/null
echo "nftables tables left in the node: $(ip netns exec "$ns" nft list tables | wc -l)"
