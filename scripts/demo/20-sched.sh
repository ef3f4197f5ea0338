#!/usr/bin/env bash
# cube-sched: a small cluster, its heartbeats, a node going silent, placement with a selector, and
# --explain when nothing fits.
set -euo pipefail
# A short heartbeat timeout so the demo need not wait 40 s for a node to go stale.
export CUBE_CONFIG="$DEMO_DIR/sched.toml"
printf '[sched]\nheartbeat_timeout = "3s"\n' >"$CUBE_CONFIG"
loops=()
trap 'kill "${loops[@]}" 2>/dev/null || true' EXIT
# shown CMD…: like run, for commands whose stdout is not the point.
shown() {
  printf '\033[2m$ %s\033[0m\n' "$*"
  "$@" >/dev/null
}

say "cube-sched: register a small cluster (the six canonical labels come from these fields)"
shown cube-sched node register node-a --cpu 16 --mem 64G --zone z1 --instance-type c1.large --label rack=r1
shown cube-sched node register node-b --cpu 8 --mem 32G --zone z1 --instance-type c1.small
shown cube-sched node register node-c --cpu 32 --mem 128G --zone z2 --instance-type c1.large
shown cube-sched node register node-d --cpu 16 --mem 64G --zone z2 --instance-type c1.large
say "Registered but not heard from yet: unhealthy"
printf '\033[2m$ cube-sched node show node-a -o json | jq\033[0m\n'
cube-sched node show node-a -o json | jq -c '{id, healthy, reason, labels}'

say "Each node reports every 1-1.5 s (--loop waits [t, 1.5t) before every report, the first too)"
for n in node-a node-b node-c node-d; do
  printf '\033[2m$ cube-sched heartbeat %s --loop 1s --cpu-util 20 --mem-free 100G &\033[0m\n' "$n"
  cube-sched heartbeat "$n" --loop 1s --cpu-util 20 --mem-free 100G &
  loops+=($!)
done
sleep 2
shown_list() {
  printf '\033[2m$ cube-sched node list -o tsv | cut -f1-5\033[0m\n'
  cube-sched node list -o tsv | cut -f1-5
}
shown_list

say "node-d's heartbeat stops; after the 3 s timeout it is unhealthy (HeartbeatExpired)"
kill "${loops[3]}"
sleep 4
shown_list

say "Place a sandbox in zone z1 on a node with more than 32Gi, and record it"
sel='[{"key":"zone","operator":"In","values":["z1"]},{"key":"memory-size","operator":"Gt","values":["32Gi"]}]'
run cube-sched place --cpu 2000m --mem 4G --selector "$sel" --sandbox sb-1 --commit
run cube-sched alloc list

say "Ask for more than any z2 node has: --explain shows every node's verdict, the exit status is 4"
sel='[{"key":"zone","operator":"In","values":["z2"]}]'
run cube-sched place --cpu 100 --mem 4G --selector "$sel" --explain || echo "(exit status $?)"
say "The same through -o json, as a script reads it"
printf '\033[2m$ cube-sched place --cpu 100 --mem 4G --selector %s --explain -o json | jq .rejections\033[0m\n' "'$sel'"
cube-sched place --cpu 100 --mem 4G --selector "$sel" --explain -o json 2>/dev/null | jq -c '.rejections' || true

say "A control plane places at rate with --batch: one JSON line in, one decision out"
printf '%s\n' '{"cpu":"1","mem":"1G","sandbox":"sb-2"}' '{"cpu":"500m","mem":"2G","sandbox":"sb-3","instance_type":"c1.small"}' \
  >"$DEMO_DIR/requests.jsonl"
run cube-sched place --batch --commit <"$DEMO_DIR/requests.jsonl"
run cube-sched release sb-1
