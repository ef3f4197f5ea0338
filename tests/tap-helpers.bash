# Shared by the cube-tap bats files: a private node namespace per test, joined to a private world
# namespace by a veth (node side up0, 198.51.100.2/24; world side w0, 198.51.100.1/24, the
# documentation range). Everything runs inside them; teardown removes both, and with them every
# TAP, route, table and sysctl the test made, even when the test failed.
load helpers

tap_setup() {
  require_root
  require_command ip
  cube_setup
  NS="cube-t-$$-${BATS_TEST_NUMBER}"
  WORLD="$NS-w"
  PIDS=()
  ip netns add "$NS"
  ip netns add "$WORLD"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add up0 type veth peer name w0
  ip -n "$NS" link set w0 netns "$WORLD"
  ip -n "$NS" addr add 198.51.100.2/24 dev up0
  ip -n "$NS" link set up0 up
  ip -n "$WORLD" addr add 198.51.100.1/24 dev w0
  ip -n "$WORLD" link set w0 up
  ip -n "$WORLD" link set lo up
  # The data path's pins: a BPF file system of the test's own (pins are per mount, and every
  # `ip netns exec` remounts /sys), named in the config.
  BPF_DIR="$TMP/bpf"
  mkdir -p "$BPF_DIR"
  mount -t bpf bpf "$BPF_DIR"
  tap_config
}

# Writes the test's config: [tap] with the test's pin directory, then each KEY = VALUE given.
tap_config() {
  printf '[tap]\nbpf_pin_dir = "%s"\n' "$BPF_DIR" >"$CUBE_CONFIG"
  local kv
  for kv in "$@"; do printf '%s\n' "$kv" >>"$CUBE_CONFIG"; done
}

tap_teardown() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
  [ -n "${WORLD:-}" ] && ip netns del "$WORLD" 2>/dev/null
  [ -n "${BPF_DIR:-}" ] && umount "$BPF_DIR" 2>/dev/null
  cube_teardown
}

# cube-tap inside the node namespace.
tapx() { ip netns exec "$NS" cube-tap "$@"; }
# Any command inside the node namespace.
inns() { ip netns exec "$NS" "$@"; }

tap_node() { tapx setup --uplink up0 "$@" >/dev/null; }

# The names of the kernel's cube TAPs in the node namespace, sorted.
kernel_taps() { inns ip -j link show | jq -r '.[].ifname' | grep -E '^z[0-9a-f]{8}$' | sort || true; }
state_taps() { tapx list -o json | jq -r '.[].tap' | sort; }

# Waits up to 5 s for a path to exist.
wait_for() {
  local i
  for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.05; done
  return 1
}

# Waits up to 5 s for a line matching $2 in file $1.
wait_line() {
  local i
  for i in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "no '$2' in $1" >&2
  return 1
}

# Starts sandbox $1's guest: ensures its TAP (extra args go to `ensure`), hands the fd through the
# server on $SOCK to the VMM stand-in ($RELAY, tests/vmm-relay.cpp), which moves the frames to eth0
# in namespace $GUEST, configured as a cube guest is.
start_guest() {
  local sb=$1
  shift
  tapx ensure "$sb" "$@" >/dev/null
  ip netns exec "$NS" cube-tap get-fd "$sb" --socket "$SOCK" --exec \
    "$RELAY" --guest-netns "/run/netns/$GUEST" --guest-tap eth0 >"$TMP/relay.out" 2>"$TMP/relay.err" 3>&- &
  PIDS+=($!)
  wait_line "$TMP/relay.out" ready
  ip -n "$GUEST" link set eth0 address 20:90:6f:fc:fc:fc
  ip netns exec "$GUEST" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
  ip -n "$GUEST" link set eth0 up
  ip -n "$GUEST" addr add 169.254.68.6/30 dev eth0
  ip -n "$GUEST" route add default via 169.254.68.5
}

# Starts `cube-tap serve` in the node namespace on $SOCK (extra args go before `serve`) and waits
# for the line that says it listens.
start_server() {
  SOCK="$TMP/tap.sock"
  : >"$TMP/serve.log"
  ip netns exec "$NS" cube-tap -v "$@" serve --socket "$SOCK" 2>>"$TMP/serve.log" &
  PIDS+=($!)
  SERVER=$!
  local i
  for i in $(seq 100); do grep -q 'serving TAP fds' "$TMP/serve.log" && return 0; sleep 0.05; done
  return 1
}
