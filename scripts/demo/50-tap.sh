#!/usr/bin/env bash
# cube-tap: a node's sandbox network, all inside a private network namespace made for the demo
# (the host's own interfaces, routes and firewall are never touched): setup, three sandboxes, a TAP
# handed to a process through get-fd, release to the pool, and reconcile after a simulated crash.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  say "cube-tap: skipped (it creates TAP devices in a private network namespace, which needs root)"
  exit 0
fi
ns="cube-demo-$$"
server=""
# Runs under set -e: every step must succeed or say || true, or a failed one would skip the rest
# and leave the namespaces and the BPF mount behind.
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$ns-w" 2>/dev/null || true
  umount "$DEMO_DIR/bpf" 2>/dev/null || true
}
trap cleanup EXIT
# node CMD…: show a command, then run it inside the demo's node namespace.
node() {
  printf '\033[2m$ %s\033[0m\n' "$*" >&2 # stderr: some outputs are piped to jq
  ip netns exec "$ns" "$@"
}

# The data path's pins need a BPF file system that outlives each command; `ip netns exec` remounts
# /sys, so the demo mounts one of its own and names it in the config (a node mounts /sys/fs/bpf).
mkdir -p "$DEMO_DIR/bpf"
mount -t bpf bpf "$DEMO_DIR/bpf"
export CUBE_CONFIG="$DEMO_DIR/tap.toml"
printf '[tap]\nbpf_pin_dir = "%s"\n' "$DEMO_DIR/bpf" >"$CUBE_CONFIG"

say "cube-tap: a private node namespace with an uplink up0 (a veth to a 'world' namespace)"
ip netns add "$ns"
ip netns add "$ns-w"
ip -n "$ns" link set lo up
ip -n "$ns" link add up0 type veth peer name w0 netns "$ns-w"
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up

say "Set the node up: gateway 192.168.0.1 on lo, forwarding, masquerade in table inet cube_tap"
node cube-tap setup --uplink up0
node nft list table inet cube_tap

say "Three sandboxes get their TAPs (named after their addresses), one with port 8080 mapped"
node cube-tap ensure sb-1 --port 8080 -o json | jq -c '{sandbox, tap, address, ports}'
node cube-tap ensure sb-2 -o json | jq -c '{sandbox, tap, address, ports}'
node cube-tap ensure sb-3 -o json | jq -c '{sandbox, tap, address, ports}'
node cube-tap list
node ip route show proto static

say "serve hands TAP fds over a Unix socket; get-fd gives one to a process as fd 3"
sock="$DEMO_DIR/tap.sock"
ip netns exec "$ns" cube-tap -v serve --socket "$sock" 2>"$DEMO_DIR/serve.log" &
server=$!
for _ in $(seq 100); do grep -q 'serving TAP fds' "$DEMO_DIR/serve.log" && break; sleep 0.05; done
node cube-tap get-fd sb-1 --socket "$sock" --exec sh -c 'echo "got fd $CUBE_TAP_FD: $(readlink /proc/self/fd/3), ifindex $CUBE_TAP_IFINDEX"'

say "Release sb-2 to the pool; a new sandbox takes its TAP back"
node cube-tap release sb-2
node cube-tap ensure sb-4 -o json | jq -c '{sandbox, tap, origin}'

say "A crash: sb-3's TAP vanishes, and a TAP nobody recorded appears"
node ip link del zc0a80004
node ip tuntap add zc0a80009 mode tap vnet_hdr
node cube-tap reconcile --dry-run
node cube-tap reconcile
node cube-tap pool status

say "Teardown removes every TAP, the table, the gateway address, and puts the sysctls back"
node cube-tap teardown --force
