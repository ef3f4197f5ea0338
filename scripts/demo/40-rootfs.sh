#!/usr/bin/env bash
# cube-rootfs: a container image becomes an ext4 template in one streaming pass, a failed job is
# redone from where it stopped.
set -euo pipefail
d="$DEMO_DIR/rootfs"
mkdir -p "$d/tree/etc" "$d/tree/usr/bin"
echo "demo" >"$d/tree/etc/hostname"
printf '#!/bin/sh\necho hello from the template\n' >"$d/tree/usr/bin/hello"
chmod 0755 "$d/tree/usr/bin/hello"

say "cube-rootfs: make a small OCI image with umoci (two layers, the second deletes a file)"
umoci init --layout "$d/oci"
umoci new --image "$d/oci:demo"
tar -C "$d/tree" -cf "$d/layer1.tar" .
umoci raw add-layer --image "$d/oci:demo" "$d/layer1.tar"
mkdir -p "$d/l2/etc" && : >"$d/l2/etc/.wh.hostname" && echo "v2" >"$d/l2/etc/version"
tar -C "$d/l2" -cf "$d/layer2.tar" .
run umoci raw add-layer --image "$d/oci:demo" "$d/layer2.tar"

say "build a template: image → ext4 artifact, no Docker, no mount; its only node is broken on purpose"
: >"$d/node1"  # a file where node1's store should be: the copy fails, so the job fails
run cube-rootfs build "oci:$d/oci:demo" --store "$d/store" --size exact --expose 8080 --env MODE=demo \
  --allow-out example.com --no-internet --to node1="$d/node1" || true
tpl=$(cube-rootfs list -o tsv | awk 'NR == 2 { print $1 }')

say "the job failed at DISTRIBUTING and the artifact no node got was removed; fix node1's store and redo"
run cube-rootfs show "$tpl"
rm "$d/node1" && mkdir -p "$d/node1"
run cube-rootfs redo "$tpl" --mode failed-only

say "the image is a clean ext4 with the layers applied (e2fsck, and its tree read without mounting)"
art=$(cube-rootfs show "$tpl" -o json | jq -r .artifact_id)
run e2fsck -fn "$d/store/$art/$art.ext4"
run cube-rootfs inspect "$d/store/$art/$art.ext4"
mkdir -p "$d/node2"
run cube-rootfs distribute "$tpl" --to node2="$d/node2"
run cube-rootfs list

say "a build killed in the middle (kill -9) is resumed by redo from its last completed phase"
CUBE_ROOTFS_PAUSE_AT=BUILDING_EXT4 cube-rootfs -q build "oci:$d/oci:demo" --store "$d/store" \
  --writable-layer-size 2G >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  t2=$(cube-rootfs list -o json | jq -r '.[] | select(.job_phase == "BUILDING_EXT4") | .template_id')
  [ -n "$t2" ] && break
  sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
run cube-rootfs list
run cube-rootfs redo "$t2"
