#!/usr/bin/env bash
# cube-versions: a release declares its versions, four simulated nodes report what they run, one of
# them is behind on the guest image, and the matrix shows the skew.
set -euo pipefail
say "cube-versions: every tool carries one version line"
run cube-versions --version

say "A release manifest declares the versions (guest image 1.4.0, kernel 6.6.30)"
printf 'vmlinux-6.6.30' >"$DEMO_DIR/vmlinux"
run cube-versions manifest --release-version 0.4.0 --guest-image-version 1.4.0 --kernel-version 6.6.30 \
  --vmlinux "$DEMO_DIR/vmlinux" --out "$DEMO_DIR/release-manifest.json"
jq -c '{release_version, guest_image: .guest_image.version, kernel: .kernel.version, tools: (.components | keys)}' \
  "$DEMO_DIR/release-manifest.json"

# Each simulated node has its own install base; node-3 still runs the previous guest image.
for n in node-1 node-2 node-3 node-4; do
  base="$DEMO_DIR/nodes/$n"
  mkdir -p "$base/cube-image" "$base/cube-egress"
  cp "$DEMO_DIR/release-manifest.json" "$base/"
  echo 1.4.0 >"$base/cube-image/version"
  echo 2.0.1 >"$base/cube-egress/version"
done
echo 1.3.9 >"$DEMO_DIR/nodes/node-3/cube-image/version"

say "What node-1 runs, as it would report it"
run cube-versions collect --base "$DEMO_DIR/nodes/node-1"

say "Each node reports (node-4 through a pipe, as over ssh to a master)"
for n in node-1 node-2 node-3; do
  cube-versions collect --base "$DEMO_DIR/nodes/$n" --node "$n" --report -o tsv | tail -n +2
done
cube-versions collect --base "$DEMO_DIR/nodes/node-4" -o jsonl | run cube-versions ingest --node node-4 -o tsv

say "The cluster matrix: guest-image is skewed, node-3 runs an undeclared 1.3.9"
run cube-versions matrix --manifest "$DEMO_DIR/release-manifest.json"

say "A deployment gate: --check exits 5 and names the problems"
set +e
cube-versions matrix --manifest "$DEMO_DIR/release-manifest.json" --check >/dev/null
echo "exit status: $?"
set -e
