# Sourced by the demo chapters that build namespaces (55-datapath, 65-proxy, 70-sandbox): showing a
# command run in a namespace, waiting for a line or a listener, and configuring a guest namespace's
# eth0 as every cube guest is. The chapter sets $ns (the node), and $guest and $world if it has them.

# in_ns LABEL NAMESPACE CMD…: show the command, then run it in that namespace.
in_ns() {
  local label=$1 where=$2
  shift 2
  printf '\033[2m[%s] $ %s\033[0m\n' "$label" "$*" >&2
  ip netns exec "$where" "$@"
}
node() { in_ns node "$ns" "$@"; }
guest() { in_ns guest "$guest" "$@"; }
world() { in_ns world "$world" "$@"; }

# wait_line FILE PATTERN: waits up to 5 s for a matching line.
wait_line() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# wait_listen NAMESPACE PORT: waits up to 5 s for a TCP listener.
wait_listen() {
  for _ in $(seq 100); do
    [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
    sleep 0.05
  done
  return 1
}

# guest_eth0: eth0 of $guest (moved there by vmm-relay) as a cube guest has it: the guest MAC,
# 169.254.68.6/30, its gateway .5, no IPv6.
guest_eth0() {
  ip -n "$guest" link set eth0 address 20:90:6f:fc:fc:fc
  ip netns exec "$guest" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
  ip -n "$guest" link set eth0 up
  ip -n "$guest" addr add 169.254.68.6/30 dev eth0
  ip -n "$guest" route add default via 169.254.68.5
}
