#!/usr/bin/env bash
# Template replica compatibility: a template is copied to three nodes and bound to their versions;
# one node's guest image is upgraded, its replica turns stale, the views say so and what to run,
# the scheduler keeps away from it, and a redo mends it.
set -euo pipefail
d="$DEMO_DIR/compat"
mkdir -p "$d"
printf 'vmlinux-6.6.30' >"$d/vmlinux"
# report NODE GUEST_IMAGE: the node's install base says so, and it reports (collect | ingest).
report() {
  mkdir -p "$d/base-$1/cube-image"
  echo "$2" >"$d/base-$1/cube-image/version"
  cube-versions manifest --release-version 0.4.0 --guest-image-version "$2" --agent-version 0.9.1 \
    --kernel-version 6.6.30 --vmlinux "$d/vmlinux" --out "$d/base-$1/release-manifest.json"
  cube-versions collect --base "$d/base-$1" --node "$1" -o jsonl | cube-versions ingest --node "$1" -o tsv | tail -n +2
}

say "three nodes of instance type 'compat' register, heartbeat and report guest image 1.4.0"
for n in c1 c2 c3; do
  cube-sched node register "$n" --cpu 16 --mem 64G --instance-type compat >/dev/null
  cube-sched heartbeat "$n" --cpu-util 10 --mem-free 1T --disk-used 10
  report "$n" 1.4.0
done

say "a template is built and distributed: each replica is bound to its node's versions"
tpl=$(cube-rootfs -q build "oci:$DEMO_DIR/rootfs/oci:demo" --store "$d/store" --instance-type compat \
  --to c1="$d/c1" --to c2="$d/c2" --to c3="$d/c3" -o json | jq -r .template_id)
run cube-versions compat --template "$tpl"

say "c2's guest image is upgraded to 1.5.0; its report rescans its replica: STALE"
report c2 1.5.0
run cube-versions compat --template "$tpl"

say "a cron job's gate: --check exits 5 naming the stale replica"
set +e
cube-versions compat --check >/dev/null
echo "exit status: $?"
set -e

say "the detail view: bound -> current per node, and the command that mends each cell"
run cube-versions compat show "$tpl"

say "the scheduler never starts a sandbox from the stale replica (--explain says why)"
run cube-sched place --cpu 1 --mem 1G --template "$tpl" --explain

say "the printed command redistributes to c2, binding it to 1.5.0"
cube-rootfs -q redo "$tpl" --mode all --nodes c2 >/dev/null
run cube-versions compat show "$tpl"
