#!/usr/bin/env bats
# cube-rootfs: real images made by umoci and skopeo (tests/fixtures/make-images), converted to ext4
# and compared entry by entry with `umoci unpack` of the same image; every image passes e2fsck -fn.
load helpers
load fixtures/rootfs-images

setup_file() {
  make_fixture_images || return 0
  "$BATS_TEST_DIRNAME/fixtures/tree-listing" dir "$FIX/ref/rootfs" >"$BATS_FILE_TMPDIR/ref.tsv"
}

setup() {
  cube_setup
  # These tests are about the image, not the cluster CA: build without it and without its warning
  # (the CA bake has its own tests in cube-rootfs-templates.bats).
  printf '[rootfs]\ncluster_ca = "none"\n' >"$CUBE_CONFIG"
  require_root
  require_command umoci
  require_command skopeo
  require_command e2fsck
  LISTING="$CUBE_ROOT/tests/fixtures/tree-listing"
}
teardown() { cube_teardown; }

# Converts $1 into $TMP/out.ext4 and checks it against the reference tree and with e2fsck.
same_as_reference() {
  rm -f "$TMP/out.ext4"
  run --separate-stderr cube-rootfs convert "$@" --out "$TMP/out.ext4" -o json
  assert_success
  run e2fsck -fn "$TMP/out.ext4"
  assert_success
  cube-rootfs inspect --content -o tsv "$TMP/out.ext4" >"$TMP/inspect.tsv"
  "$LISTING" inspect "$TMP/inspect.tsv" >"$TMP/image.tsv"
  diff -u "$BATS_FILE_TMPDIR/ref.tsv" "$TMP/image.tsv"
}

@test "OCI layout with gzip layers equals umoci unpack, e2fsck clean" {
  same_as_reference "oci:$FIX/oci:rules"
  # The metadata_csum feature is on.
  dumpe2fs -h "$TMP/out.ext4" 2>/dev/null | grep -q metadata_csum
  # Each gzip layer was inflated once: pass 2 read its spool, which left no file behind.
  rm -f "$TMP/out.ext4"
  before=$(ls -A "$TMP")
  run --separate-stderr cube-rootfs -vv convert "oci:$FIX/oci:rules" --out "$TMP/out.ext4"
  assert_success
  [[ "$stderr" == *"read from its spool"* ]]
  [[ "$stderr" != *"inflated again in the second pass"* ]]
  [ "$(ls -A "$TMP" | grep -vx out.ext4)" = "$before" ]
}

@test "OCI layout with zstd layers equals umoci unpack" {
  same_as_reference "oci:$FIX/oci-zstd:rules"
}

@test "OCI layout with uncompressed layers equals umoci unpack" {
  same_as_reference "oci:$FIX/oci-plain"
}

@test "docker-archive equals umoci unpack" {
  same_as_reference "$FIX/image.tar"
}

@test "single rootfs tar and a tar on stdin equal umoci unpack" {
  same_as_reference "$FIX/flat.tar"
  rm -f "$TMP/out.ext4"
  cube-rootfs convert - --out "$TMP/out.ext4" <"$FIX/flat.tar" >/dev/null
  cube-rootfs inspect --content -o tsv "$TMP/out.ext4" >"$TMP/inspect.tsv"
  diff -u "$BATS_FILE_TMPDIR/ref.tsv" <("$LISTING" inspect "$TMP/inspect.tsv")
  # The spool file is gone.
  [ -z "$(find "$TMP" -name 'stdin-*')" ]
}

@test "layer rules: spot checks with debugfs" {
  cube-rootfs convert "oci:$FIX/oci:rules" --out "$TMP/o.ext4" >/dev/null
  dbg() { debugfs -R "$1" "$TMP/o.ext4" 2>/dev/null; }
  # Whiteouts and the opaque directory.
  run dbg "ls -p /opt/keep"
  assert_output --partial "/new/"
  refute_output --partial "/old/"
  run dbg "stat /opt/gone2"
  assert_output ""
  # The hardlink whose target a later layer removed keeps the content.
  run dbg "cat /etc/survivor"
  assert_output "doomed"
  # The file capability and the setuid bit.
  run dbg "ea_list /usr/bin/ping"
  assert_output --partial "security.capability"
  run dbg "stat /usr/bin/suid"
  assert_output --partial "Mode:  04750"
  # The sparse file keeps its hole: 20 MiB long, a few blocks allocated.
  blocks=$(dbg "stat /data/sparse" | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
  [ "$blocks" -lt 64 ]
}

@test "fingerprints: files.jsonl holds every regular file's SHA-256" {
  cube-rootfs convert "oci:$FIX/oci:rules" --out "$TMP/o.ext4" --files "$TMP/files.jsonl" >/dev/null
  want=$(sha256sum "$FIX/ref/rootfs/data/random" | cut -d' ' -f1)
  got=$(jq -r 'select(.path == "/data/random") | .sha256' "$TMP/files.jsonl")
  [ "$want" = "$got" ]
  want=$(sha256sum "$FIX/ref/rootfs/data/sparse" | cut -d' ' -f1)
  got=$(jq -r 'select(.path == "/data/sparse") | .sha256' "$TMP/files.jsonl")
  [ "$want" = "$got" ]
  [ "$(jq -r 'select(.path == "/dev/null") | .type' "$TMP/files.jsonl")" = char ]
  # Every file's, against the reference tree, from a gzip image (its layers inflated once, into a
  # spool) and from an uncompressed one.
  for img in "oci:$FIX/oci:rules" "oci:$FIX/oci-plain"; do
    rm -f "$TMP/o.ext4"
    cube-rootfs convert "$img" --out "$TMP/o.ext4" --files "$TMP/files.jsonl" >/dev/null
    jq -r 'select(.type == "file") | "\(.sha256)  .\(.path)"' "$TMP/files.jsonl" >"$TMP/sums"
    [ "$(wc -l <"$TMP/sums")" -gt 5 ]
    (cd "$FIX/ref/rootfs" && sha256sum --quiet --strict -c "$TMP/sums")
  done
}

@test "sizing: the model gives 1 GiB for a small tree; exact is smaller and holds the tree" {
  run cube-rootfs convert "oci:$FIX/oci:rules" --out "$TMP/m.ext4" -o json
  assert_success
  [ "$(jq -r .image_bytes <<<"$output")" = 1073741824 ]
  [ "$(stat -c %s "$TMP/m.ext4")" = 1073741824 ]
  same_as_reference "oci:$FIX/oci:rules" --size exact
  small=$(stat -c %s "$TMP/out.ext4")
  [ "$small" -lt $((64 << 20)) ]
  same_as_reference "oci:$FIX/oci:rules" --size exact --headroom 32M
  # Headroom is free space in the file system, not bytes on top of the smallest image (8M, a floor).
  free=$(dumpe2fs -h "$TMP/out.ext4" 2>/dev/null | awk -F: '/^Free blocks/ {print $2 + 0}')
  [ "$((free * 4096))" -ge $((32 << 20)) ]
  [ "$(stat -c %s "$TMP/out.ext4")" -gt "$small" ]
}

@test "sizing: a tree that does not fit is an error before anything is written" {
  # The fixture's 20 MiB sparse file is mostly hole and fits in 8M; 10 MiB of real data does not.
  head -c 10M /dev/urandom >"$TMP/big"
  run --separate-stderr cube-rootfs convert "oci:$FIX/oci:rules" --out "$TMP/x.ext4" --size 8M --add-file "$TMP/big:/big"
  assert_failure 2
  [[ "$stderr" == *"does not fit"* ]]
  [ ! -e "$TMP/x.ext4" ] && [ ! -e "$TMP/x.ext4.part" ]
}

@test "sizing knobs: an out-of-range percent is ignored with a warning" {
  run --separate-stderr env CUBE_EXT4_OVERHEAD_PERCENT=50 cube-rootfs convert "$FIX/flat.tar" --out "$TMP/k.ext4"
  assert_success
  [[ "$stderr" == *"CUBE_EXT4_OVERHEAD_PERCENT"* ]]
}

@test "a corrupted layer blob is named and nothing is left behind" {
  cp -a "$FIX/oci-plain" "$TMP/bad"
  blob=$(find "$TMP/bad/blobs/sha256" -type f -size +100k | head -1)
  printf 'X' | dd of="$blob" bs=1 seek=5000 conv=notrunc status=none
  run --separate-stderr cube-rootfs convert "oci:$TMP/bad:rules" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"layer 1 (sha256:"*"content digest"* ]]
  [ ! -e "$TMP/x.ext4" ] && [ ! -e "$TMP/x.ext4.part" ]
  # A truncated blob: the size no longer matches the descriptor.
  cp -a "$FIX/oci-plain" "$TMP/short"
  blob=$(find "$TMP/short/blobs/sha256" -type f -size +100k | head -1)
  truncate -s -512 "$blob"
  run --separate-stderr cube-rootfs convert "oci:$TMP/short:rules" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"layer 1 (sha256:"* ]]
}

@test "hostile archives: traversal, outside hardlinks, absurd sizes, too many entries" {
  python3 - "$TMP" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def tar(name, entries):
    with tarfile.open(f"{d}/{name}", "w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data else None)
def reg(name, data=b"x"):
    ti = tarfile.TarInfo(name); ti.size = len(data); return ti, data
def lnk(name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.LNKTYPE; ti.linkname = target; return ti, None
tar("traversal.tar", [reg("etc/../../escape")])
tar("outside-link.tar", [lnk("etc/passwd", "../../etc/shadow")])
tar("many.tar", [reg(f"f{i}", b"") for i in range(300)])
# A header that claims 2 TiB of content, with no data behind it.
ti = tarfile.TarInfo("huge"); ti.size = 2 << 40
open(f"{d}/huge.tar", "wb").write(ti.tobuf(tarfile.PAX_FORMAT))
PY
  run --separate-stderr cube-rootfs convert "$TMP/traversal.tar" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *'escapes the image root'* ]]
  run --separate-stderr cube-rootfs convert "$TMP/outside-link.tar" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *'escapes the image root'* ]]
  run --separate-stderr cube-rootfs convert "$TMP/huge.tar" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *'claims 2199023255552 bytes'* ]]
  run --separate-stderr cube-rootfs convert "$TMP/many.tar" --out "$TMP/x.ext4" --max-entries 100
  assert_failure 2
  [[ "$stderr" == *'more than 100 entries'* ]]
  [ ! -e "$TMP/x.ext4" ] && [ ! -e "$TMP/x.ext4.part" ]
}

@test "bad input: missing image, unknown tag, existing output, bad --add-file" {
  run --separate-stderr cube-rootfs convert "$TMP/nope.tar" --out "$TMP/x.ext4"
  assert_failure 3
  run --separate-stderr cube-rootfs convert "oci:$FIX/oci:nosuchtag" --out "$TMP/x.ext4"
  assert_failure 3
  [[ "$stderr" == *'no image tagged "nosuchtag"'* ]]
  : >"$TMP/exists.ext4"
  run --separate-stderr cube-rootfs convert "$FIX/flat.tar" --out "$TMP/exists.ext4"
  assert_failure 4
  run --separate-stderr cube-rootfs convert "$FIX/flat.tar" --out "$TMP/x.ext4" --add-file nocolon
  assert_failure 2
  run --separate-stderr cube-rootfs convert "$FIX/flat.tar" --out "$TMP/x.ext4" --add-file "/etc/hostname:/x:999"
  assert_failure 2
  [[ "$stderr" == *'not octal'* ]]
}

@test "--add-file puts a host file in the image; --dedup-hardlink shares identical files" {
  echo "extra content" >"$TMP/extra"
  cube-rootfs convert "$FIX/flat.tar" --out "$TMP/a.ext4" --add-file "$TMP/extra:/etc/extra/file:0600" >/dev/null
  run debugfs -R "cat /etc/extra/file" "$TMP/a.ext4"
  assert_output --partial "extra content"
  cube-rootfs inspect -o json "$TMP/a.ext4" | jq -e '.[] | select(.path == "/etc/extra/file" and .mode == "0600")'
  mkdir -p "$TMP/d/a" "$TMP/d/b"
  head -c 100000 /dev/urandom >"$TMP/d/a/one"
  cp -p "$TMP/d/a/one" "$TMP/d/b/two"
  touch -d 2020-01-01 "$TMP/d/a/one" "$TMP/d/b/two"
  tar -C "$TMP/d" -cf "$TMP/dup.tar" .
  run cube-rootfs convert "$TMP/dup.tar" --out "$TMP/dup.ext4" --dedup-hardlink -o json
  assert_success
  [ "$(jq -r .deduplicated <<<"$output")" = 1 ]
  e2fsck -fn "$TMP/dup.ext4"
  [ "$(cube-rootfs inspect -o json "$TMP/dup.ext4" | jq '[.[] | select(.type == "file") | .ino] | unique | length')" = 1 ]
  # A file written through a symlinked directory is found for dedup where it lands.
  python3 - "$TMP/dup-link.tar" <<'PY'
import io, sys, tarfile
data = b"same bytes" * 1000
with tarfile.open(sys.argv[1], "w") as t:
    for name in ("a", "b"):
        d = tarfile.TarInfo(name); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    l = tarfile.TarInfo("l"); l.type = tarfile.SYMTYPE; l.linkname = "b"; t.addfile(l)
    for name in ("a/one", "l/two"):
        f = tarfile.TarInfo(name); f.size = len(data); f.mode = 0o644; f.mtime = 1577836800
        t.addfile(f, io.BytesIO(data))
PY
  run cube-rootfs convert "$TMP/dup-link.tar" --out "$TMP/dup-link.ext4" --dedup-hardlink -o json
  assert_success
  [ "$(jq -r .deduplicated <<<"$output")" = 1 ]
  cube-rootfs inspect -o json "$TMP/dup-link.ext4" | jq -e '.[] | select(.path == "/b/two")'
}

@test "symlinked parents: later layers write beneath links as umoci unpack --rootless does" {
  # Relative, absolute, escaping, chained and dangling links; a hardlink and a whiteout through a
  # link; an opaque directory after the same layer's own child beneath it.
  cube-rootfs convert "oci:$FIX/oci-links:links" --out "$TMP/l.ext4" --size exact >/dev/null
  e2fsck -fn "$TMP/l.ext4"
  cube-rootfs inspect --content -o tsv "$TMP/l.ext4" >"$TMP/inspect.tsv"
  diff -u <("$LISTING" dir "$FIX/ref-links/rootfs") <("$LISTING" inspect "$TMP/inspect.tsv")
  # Spot checks, so the comparison cannot pass on two empty trees.
  run debugfs -R "cat /usr/usr/lib/qux" "$TMP/l.ext4"
  assert_output --partial qux
  run debugfs -R "stat /lib" "$TMP/l.ext4"
  assert_output --partial "Type: symlink"
}

@test "symlinked parents: beneath a link to a file, or through a link loop, fails as umoci does" {
  for tag in tofile loop; do
    run umoci unpack --rootless --image "$FIX/oci-links:$tag" "$TMP/umoci-$tag"
    assert_failure
    run --separate-stderr cube-rootfs convert "oci:$FIX/oci-links:$tag" --out "$TMP/$tag.ext4"
    assert_failure 2
    [ ! -e "$TMP/$tag.ext4" ] && [ ! -e "$TMP/$tag.ext4.part" ]
    case $tag in
      tofile) [[ "$stderr" == *'"tofile/y": parent "/etc/passwd" (reached through symbolic links from "/tofile") is a file'* ]] ;;
      loop) [[ "$stderr" == *'"loop1/z": more than 255 symbolic links on the way to "/loop1"'* ]] ;;
    esac
  done
}
