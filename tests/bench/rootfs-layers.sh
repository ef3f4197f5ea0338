#!/usr/bin/env bash
# The second half of tests/bench/rootfs: a real multi-layer gzip OCI image — a Debian base made with
# debootstrap and packed with umoci, plus two change layers (files added, files removed and
# changed) — built by cube-rootfs, against `umoci unpack` + `mke2fs -d` + `sha256sum` of every file,
# and against merely decompressing every layer once (gzip -dc, and igzip -dc when installed).
# Made at bench time, never committed. Usage: tests/bench/rootfs-layers.sh [ROUNDS]
# BENCH_DIR=… chooses the scratch place; BENCH_CACHE=DIR keeps the debootstrap tree between runs;
# BENCH_MIRROR=URL is the Debian archive (default: the first one apt is set up with).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tool="$root/build/bin/cube-rootfs"
rounds=${1:-3}
for t in debootstrap umoci mke2fs; do
  command -v "$t" >/dev/null || { echo "bench: $t is not installed (scripts/deps/bench.txt)" >&2; exit 1; }
done
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cube-rootfs-layers.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The Debian archive apt uses here: the first `deb` URI of its enabled sources that ends in /debian.
apt_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^(deb |URIs:)/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }'
}
mirror=${BENCH_MIRROR:-$(apt_mirror || true)}
cache=${BENCH_CACHE:-$work/cache}
if [ ! -e "$cache/base/etc/debian_version" ]; then
  mkdir -p "$cache"
  rm -rf "$cache/base"
  echo "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase bookworm "$cache/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -5 "$work/debootstrap.log" >&2; exit 1; }
fi

# Layer 1: the base. Layer 2: Python's libraries added. Layer 3: docs and locales removed, a
# config changed, a binary replaced.
oci="$work/oci"
umoci init --layout "$oci"
umoci new --image "$oci:img"
umoci unpack --image "$oci:img" "$work/bundle" >/dev/null
cp -a "$cache/base/." "$work/bundle/rootfs/"
umoci repack --image "$oci:img" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
umoci unpack --image "$oci:img" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/opt"
cp -a "$(cd / && ls -d /usr/lib/python3.[0-9]* | head -1)" "$work/bundle/rootfs/opt/python"
cp -a /usr/share/perl "$work/bundle/rootfs/opt/perl" 2>/dev/null || true
umoci repack --image "$oci:img" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
umoci unpack --image "$oci:img" "$work/bundle" >/dev/null
rm -rf "$work/bundle/rootfs/usr/share/doc" "$work/bundle/rootfs/usr/share/locale" "$work/bundle/rootfs/opt/python/test"
echo "bench" >"$work/bundle/rootfs/etc/hostname"
cp /usr/bin/env "$work/bundle/rootfs/usr/bin/env"
umoci repack --image "$oci:img" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
umoci gc --layout "$oci"

blobs=()
for d in $(jq -r '.layers[].digest' "$oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$oci/index.json" | cut -d: -f2)"); do
  blobs+=("$oci/blobs/sha256/${d#sha256:}")
done
gz=$(cat "${blobs[@]}" | wc -c)
plain=$(for b in "${blobs[@]}"; do gzip -dc "$b"; done | wc -c)
echo "image: ${#blobs[@]} gzip layers, $((gz >> 20)) MiB compressed, $((plain >> 20)) MiB as tar"

now() { date +%s.%N; }
# Deleting what a run wrote leaves the file system work to do (freeing and discarding its blocks at
# the next journal commit), which the next timed command would pay for; each starts on a quiet disk.
settle() { sync; }
. "$(dirname "$0")/lib.sh"  # median, median_of
igzip=$(command -v igzip || true)

tool_t=() base_t=() dec_t=() idec_t=()
for r in $(seq "$rounds"); do
  rm -f "$work/tool.ext4"
  settle
  t0=$(now)
  "$tool" -q convert "oci:$oci:img" --out "$work/tool.ext4" -o json >"$work/tool.json"
  t1=$(now)
  tool_t+=("$(echo "$t1 - $t0" | bc)")
  size=$(jq -r .image_bytes "$work/tool.json")

  rm -rf "$work/unpacked" "$work/base.ext4"
  settle
  t0=$(now)
  umoci unpack --image "$oci:img" "$work/unpacked" >/dev/null
  truncate -s "$size" "$work/base.ext4"
  mke2fs -q -F -t ext4 -d "$work/unpacked/rootfs" "$work/base.ext4"
  (cd "$work/unpacked/rootfs" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  t1=$(now)
  base_t+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$work/unpacked" "$work/base.ext4"
  settle

  t0=$(now)
  for b in "${blobs[@]}"; do gzip -dc "$b" >/dev/null; done
  t1=$(now)
  dec_t+=("$(echo "$t1 - $t0" | bc)")
  if [ -n "$igzip" ]; then
    t0=$(now)
    for b in "${blobs[@]}"; do "$igzip" -dc "$b" >/dev/null; done
    t1=$(now)
    idec_t+=("$(echo "$t1 - $t0" | bc)")
  fi
  echo "round $r: cube-rootfs ${tool_t[-1]} s, umoci unpack+mke2fs+sha256sum ${base_t[-1]} s," \
    "gzip -dc ${dec_t[-1]} s${igzip:+, igzip -dc ${idec_t[-1]} s}; load $(cut -d' ' -f1-3 /proc/loadavg)"
done

e2fsck -fn "$work/tool.ext4" >/dev/null
mt=$(median_of "${tool_t[@]}") mb=$(median_of "${base_t[@]}") md=$(median_of "${dec_t[@]}")
echo
printf 'multi-layer gzip image, median wall time: cube-rootfs %.2f s, umoci unpack + mke2fs -d + sha256sum %.2f s: %.1fx faster\n' \
  "$mt" "$mb" "$(echo "$mb / $mt" | bc -l)"
printf 'multi-layer gzip image: cube-rootfs %.2f s, gzip -dc of every layer once %.2f s: %.2fx of merely decompressing\n' \
  "$mt" "$md" "$(echo "$mt / $md" | bc -l)"
if [ -n "$igzip" ]; then
  mi=$(median_of "${idec_t[@]}")
  printf 'multi-layer gzip image: igzip -dc of every layer once %.2f s: cube-rootfs is %.2fx of it\n' "$mi" \
    "$(echo "$mt / $mi" | bc -l)"
fi
