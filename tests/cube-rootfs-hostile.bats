#!/usr/bin/env bats
# cube-rootfs against hostile and broken input, by class: walks that could recurse without end,
# files that never end, work out of proportion to the input, leftovers, data loss by option, links
# out of an image layout, and misleading exit codes or messages. Every case must end promptly
# with a clear message and leave no partial output. The inputs: tests/fixtures/hostile-images.py.
load helpers

setup() {
  cube_setup
  printf '[rootfs]\ncluster_ca = "none"\n' >"$CUBE_CONFIG"
  H="$TMP/h"
  mkdir -p "$H"
  python3 "$CUBE_ROOT/tests/fixtures/hostile-images.py" "$H" >/dev/null
}
teardown() { cube_teardown; }

# Runs cube-rootfs with a time limit: a hang is a failure (exit 124), not a stuck suite.
bounded() {
  run --separate-stderr timeout 60 cube-rootfs "$@"
}

no_output_left() {
  [ ! -e "$1" ] && [ ! -e "$1.part" ]
}

@test "depth: links that build 60,000 directory levels are refused, no crash, no .part" {
  bounded convert "$H/deep.tar" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"bytes deep"*"PATH_MAX"* ]]
  no_output_left "$TMP/x.ext4"
  # A whiteout or a hardlink through the same links looks the path up without creating it.
  python3 - "$H" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
with tarfile.open(f"{d}/deep-lookup.tar", "w", format=tarfile.PAX_FORMAT) as t:
    with tarfile.open(f"{d}/deep.tar") as src:
        for m in src.getmembers()[:-1]:
            t.addfile(m)
    for name in ("s29/.wh.gone", "s29/x/.wh..wh..opq"):
        t.addfile(tarfile.TarInfo(name))
    ti = tarfile.TarInfo("hard"); ti.type = tarfile.LNKTYPE; ti.linkname = "s29/none"
    t.addfile(ti)
PY
  bounded convert "$H/deep-lookup.tar" --out "$TMP/y.ext4"
  assert_failure 2
  [[ "$stderr" == *'hardlink "hard" points to "s29/none", which does not exist'* ]]
  no_output_left "$TMP/y.ext4"
}

@test "depth: a directory tree as deep as PATH_MAX allows still converts and inspects" {
  python3 - "$H" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
with tarfile.open(f"{d}/ok-deep.tar", "w", format=tarfile.PAX_FORMAT) as t:
    t.addfile(tarfile.TarInfo("a/" * 2000 + "f"))
PY
  bounded convert "$H/ok-deep.tar" --out "$TMP/x.ext4" --size exact
  assert_success
  bounded inspect "$TMP/x.ext4" -o tsv
  assert_success
  [[ "$output" == *"$(printf 'a/%.0s' $(seq 1999))a/f"* ]]
}

@test "cycle: inspect of an image with a hard-linked directory stops with a message" {
  require_command debugfs
  cube-rootfs convert "$H/plain.tar" --out "$TMP/x.ext4" >/dev/null
  debugfs -w -R "ln /etc /etc/loop" "$TMP/x.ext4" 2>/dev/null
  debugfs -w -R "ln /etc /empty/again" "$TMP/x.ext4" 2>/dev/null
  bounded inspect "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"has a second name"*"corrupt"* ]]
  bounded inspect --content "$TMP/x.ext4"
  assert_failure 2
}

@test "never-ending files: a FIFO or a device as image, layer blob, --add-file or inspect FILE" {
  mkfifo "$TMP/fifo"
  bounded convert "$TMP/fifo" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"is a FIFO, not a regular file"* ]]
  bounded inspect "$TMP/fifo"
  assert_failure 2
  [[ "$stderr" == *"is a FIFO"* ]]
  bounded inspect /dev/zero
  assert_failure 2
  [[ "$stderr" == *"is a character device"* ]]
  bounded convert "$H/plain.tar" --out "$TMP/x.ext4" --add-file "$TMP/fifo:/etc/f"
  assert_failure 2
  # The layer blob of a layout (its config and manifest are read as small JSON, also checked).
  for kind in layer manifest; do
    rm -rf "$TMP/oci"
    cp -a "$H/oci" "$TMP/oci"
    if [ $kind = layer ]; then
      blob=$(ls -S "$TMP/oci/blobs/sha256" | head -1)
    else
      blob=$(jq -r '.manifests[0].digest' "$TMP/oci/index.json" | cut -d: -f2)
    fi
    rm "$TMP/oci/blobs/sha256/$blob"
    mkfifo "$TMP/oci/blobs/sha256/$blob"
    bounded convert "oci:$TMP/oci:t" --out "$TMP/x.ext4"
    assert_failure 2
    [[ "$stderr" == *"$blob is a FIFO, not a regular file"* ]]
  done
  no_output_left "$TMP/x.ext4"
}

@test "work in proportion: a 10 KB tar with a 100 GiB sparse file is refused at once, a 256 MiB one converts" {
  bounded convert "$H/sparse.tar" --out "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"sparse files claim 100G of holes for 512 of data"* ]]
  bounded convert "$H/sparse.tar" --out "$TMP/x.ext4" --size exact
  assert_failure 2
  bounded convert "$H/sparse.tar" --out "$TMP/x.ext4" --dedup-hardlink
  assert_failure 2
  no_output_left "$TMP/x.ext4"
  # One the image holds is a sparse file like any other: the data in place, the rest a hole.
  bounded convert "$H/sparse-small.tar" --out "$TMP/x.ext4"
  assert_success
  [ "$(du -k "$TMP/x.ext4" | cut -f1)" -lt 100000 ]
  bounded inspect --content "$TMP/x.ext4" -o json
  assert_success
  [ "$(jq -r '.[] | select(.path == "/big") | .size' <<<"$output")" = 268435456 ]
  [ "$(jq -r '.[] | select(.path == "/big") | .sha256' <<<"$output")" = \
    "$( (head -c 512 /dev/zero | tr '\0' D; head -c $((268435456 - 512)) /dev/zero) | sha256sum | cut -d' ' -f1)" ]
}

@test "work in proportion: inspect --content of an image whose files claim more than it could hold" {
  require_command debugfs
  cube-rootfs convert "$H/plain.tar" --out "$TMP/x.ext4" --size exact >/dev/null
  # One file claims 1 PiB; then several claim 1 GiB each, each alone within bounds, together not.
  cp "$TMP/x.ext4" "$TMP/one.ext4"
  debugfs -w -R "sif /etc/passwd size 0x4000000000000" "$TMP/one.ext4" 2>/dev/null
  bounded inspect --content "$TMP/one.ext4"
  assert_failure 2
  [[ "$stderr" == *"/etc/passwd: a file of 1125899906842624 bytes"*"content are hashed for an image this size"* ]]
  for f in /etc/passwd /etc/hostname; do debugfs -w -R "sif $f size 0x40000000" "$TMP/x.ext4" 2>/dev/null; done
  bounded inspect --content "$TMP/x.ext4"
  assert_failure 2
  [[ "$stderr" == *"after 1073741824 bytes of others"* ]]
  # Listing without content reads no file, so it lists them, sizes as claimed.
  bounded inspect "$TMP/x.ext4" -o json
  assert_success
  [ "$(jq -r '.[] | select(.path == "/etc/hostname") | .size' <<<"$output")" = 1073741824 ]
}

@test "work in proportion: absurd --size and --headroom are refused before any arithmetic" {
  for args in "--size exact --headroom 999999T" "--size 999999T" "--size exact --headroom 17T"; do
    # shellcheck disable=SC2086
    bounded convert "$H/plain.tar" --out "$TMP/x.ext4" $args
    assert_failure 2
    [[ "$stderr" == *"the largest image cube-rootfs makes is 16T"* ]]
  done
  no_output_left "$TMP/x.ext4"
}

@test "leftovers: a missing --out directory or --work-dir is an error, never created" {
  bounded convert - --out "$TMP/missing/dir/x.ext4" <"$H/plain.tar"
  assert_failure 3
  [[ "$stderr" == *"$TMP/missing/dir does not exist"* ]]
  bounded convert "$H/plain.tar" --out "$TMP/missing/dir/x.ext4"
  assert_failure 3
  bounded convert - --out "$TMP/x.ext4" --work-dir "$TMP/nonexistent/dir" <"$H/plain.tar"
  assert_failure 3
  bounded build "$H/plain.tar" --store "$TMP/store" --work-dir "$TMP/nonexistent/dir"
  assert_failure 3
  [ ! -e "$TMP/missing" ] && [ ! -e "$TMP/nonexistent" ]
}

@test "leftovers: a template from stdin deleted before READY leaves nothing after gc; oci: paths are stored absolute" {
  require_command sqlite3
  STORE="$TMP/store"
  CUBE_ROOTFS_PAUSE_AT=UNPACKING cube-rootfs build - --store "$STORE" <"$H/plain.tar" >/dev/null 2>&1 &
  bg=$!
  for _ in $(seq 200); do
    [ -n "$(ls "$STORE/.incoming/" 2>/dev/null)" ] && break
    sleep 0.1
  done
  tpl=$(sqlite3 "$CUBE_STATE" "SELECT template_id FROM templates")
  kill -9 "$bg"
  wait "$bg" 2>/dev/null || true
  [ -e "$STORE/.incoming/$tpl.tar" ]
  cube-rootfs delete "$tpl" >/dev/null
  run --separate-stderr cube-rootfs gc --store "$STORE" --grace 0s -o json
  assert_success
  [ -z "$(ls -A "$STORE/.incoming")" ]
  # A relative layout path is stored absolute, so a redo from elsewhere reads the same image.
  cd "$H"
  CUBE_ROOTFS_PAUSE_AT=UNPACKING cube-rootfs build oci:oci:t --store "$STORE" >/dev/null 2>&1 &
  bg=$!
  for _ in $(seq 200); do
    tpl=$(sqlite3 "$CUBE_STATE" "SELECT template_id FROM templates" 2>/dev/null || true)
    [ -n "$tpl" ] && break
    sleep 0.1
  done
  kill -9 "$bg"
  wait "$bg" 2>/dev/null || true
  [ "$(sqlite3 "$CUBE_STATE" "SELECT json_extract(request_json, '$.image') FROM templates")" = "oci:$H/oci:t" ]
  cd /
  run --separate-stderr cube-rootfs redo "$tpl" -o json
  assert_success
  [ "$(jq -r .status <<<"$output")" = READY ]
}

@test "leftovers: a disk that fills while the image is written: exit 1 naming the file, nothing left" {
  [ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
  require_command unshare
  mkdir -p "$TMP/src/opt" "$TMP/small"
  head -c 12M /dev/urandom >"$TMP/src/opt/big"
  tar -C "$TMP/src" -cf "$TMP/big.tar" opt
  # The image is sparse and its data written by a second thread: the error must still reach the
  # command, name the file, and leave no image and no .part behind.
  run --separate-stderr unshare -m --propagation private sh -c "
    mount -t tmpfs -o size=4m tmpfs '$TMP/small' || exit 99
    timeout 60 cube-rootfs convert '$TMP/big.tar' --out '$TMP/small/x.ext4'; rc=\$?
    ls -A '$TMP/small' >&2
    exit \$rc"
  [ "$status" -ne 99 ] || skip "cannot mount tmpfs here"
  assert_failure 1
  [[ "$stderr" == *'entry 2 "opt/big": writing data to the image (No space left on device; the disk is full)'* ]]
  [[ "$stderr" != *"x.ext4"* ]] || fail "left behind: $stderr"
}

@test "leftovers: a killed writer's .part is replaced; a live writer's output is never taken by another" {
  require_command flock
  # What kill -9 leaves: a part nobody holds, even a link to elsewhere. The next build replaces it.
  echo keep >"$TMP/victim"
  ln -s "$TMP/victim" "$TMP/x.ext4.part"
  bounded convert "$H/plain.tar" --out "$TMP/x.ext4"
  assert_success
  [ "$(cat "$TMP/victim")" = keep ] && [ ! -e "$TMP/x.ext4.part" ]
  e2fsck -fn "$TMP/x.ext4" >/dev/null
  # A part a running writer holds: a second build of the same output stops with exit 4 naming it,
  # and leaves the part as it was and no output.
  echo theirs >"$TMP/y.ext4.part"
  # The holder is one process (the lock's descriptor passed to sleep), so one kill frees it.
  (exec 9<>"$TMP/y.ext4.part" 3>&- && flock 9 && exec sleep 30) &
  holder=$!
  for _ in $(seq 50); do flock -n "$TMP/y.ext4.part" true || break; sleep 0.1; done
  bounded convert "$H/plain.tar" --out "$TMP/y.ext4"
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  assert_failure 4
  [[ "$stderr" == *"another writer is making $TMP/y.ext4 ($TMP/y.ext4.part is held by a running process"* ]]
  [ "$(cat "$TMP/y.ext4.part")" = theirs ] && [ ! -e "$TMP/y.ext4" ]
}

@test "data loss by option: --add-file never replaces a directory" {
  echo data >"$TMP/f"
  bounded convert "$H/plain.tar" --out "$TMP/x.ext4" --add-file "$TMP/f:/etc"
  assert_failure 2
  [[ "$stderr" == *'"/etc" is a directory in the image (3 entries in it)'* ]]
  bounded convert "$H/plain.tar" --out "$TMP/x.ext4" --add-file "$TMP/f:/empty/"
  assert_failure 2
  no_output_left "$TMP/x.ext4"
  # A file is still replaced, as before.
  bounded convert "$H/plain.tar" --out "$TMP/x.ext4" --add-file "$TMP/f:/etc/hostname"
  assert_success
}

@test "escapes: index.json, a blob or the blob directory as links out of the layout are refused unread" {
  for what in index manifest layer dir; do
    rm -rf "$TMP/oci"
    cp -a "$H/oci" "$TMP/oci"
    case $what in
      index) ln -sf /etc/passwd "$TMP/oci/index.json" ;;
      manifest)
        m=$(jq -r '.manifests[0].digest' "$TMP/oci/index.json" | cut -d: -f2)
        ln -sf /etc/passwd "$TMP/oci/blobs/sha256/$m" ;;
      layer)
        l=$(ls -S "$TMP/oci/blobs/sha256" | head -1)
        mv "$TMP/oci/blobs/sha256/$l" "$TMP/$l"
        ln -s "$TMP/$l" "$TMP/oci/blobs/sha256/$l" ;;
      dir)
        mv "$TMP/oci/blobs" "$TMP/blobs-elsewhere"
        ln -s "$TMP/blobs-elsewhere" "$TMP/oci/blobs" ;;
    esac
    bounded convert "oci:$TMP/oci:t" --out "$TMP/x.ext4"
    assert_failure 2
    [[ "$stderr" == *"is a symbolic link or leads out of its directory"* ]]
    [[ "$stderr" != *"root:"* && "$stderr" != *"last read"* ]]
  done
  no_output_left "$TMP/x.ext4"
}

@test "exit codes and messages: missing files, corrupt images, tampered layers in order, two images" {
  bounded inspect "$TMP/nope.ext4"
  assert_failure 3
  bounded convert "$TMP/nope.tar" --out "$TMP/x.ext4"
  assert_failure 3
  # A corrupt image: libext2fs's own words, never "Unknown code ext2 N".
  cube-rootfs convert "$H/plain.tar" --out "$TMP/x.ext4" >/dev/null
  cp "$TMP/x.ext4" "$TMP/bad.ext4"
  dd if=/dev/zero of="$TMP/bad.ext4" bs=4096 seek=0 count=1 conv=notrunc status=none
  bounded inspect "$TMP/bad.ext4"
  assert_failure 2
  [[ "$stderr" == *"Bad magic number in super-block"* ]]
  cp "$TMP/x.ext4" "$TMP/bad.ext4"
  dd if=/dev/urandom of="$TMP/bad.ext4" bs=4096 seek=1 count=60 conv=notrunc status=none
  bounded inspect --content "$TMP/bad.ext4"
  [ "$status" -ne 0 ] && [ "$status" -lt 128 ]
  [[ "$stderr" != *"Unknown code"* ]]
  # A tampered layer whose bytes no longer parse is reported as what it is: not its digest.
  cp -a "$H/oci" "$TMP/oci"
  l=$(ls -S "$TMP/oci/blobs/sha256" | head -1)
  printf '\377\377\377\377' | dd of="$TMP/oci/blobs/sha256/$l" bs=1 seek=0 conv=notrunc status=none
  bounded convert "oci:$TMP/oci:t" --out "$TMP/y.ext4"
  assert_failure 2
  [[ "$stderr" == *"content digest"* ]]
  [[ "$stderr" != *"entry without a path"* ]]
  no_output_left "$TMP/y.ext4"
  # Layers are read two at a time, and still reported in order: a first layer's error comes
  # first, whatever the second one holds; a tampered second layer after a sound first is named.
  bounded convert "oci:$H/oci:bad-first" --out "$TMP/y.ext4"
  assert_failure 2
  [[ "$stderr" == "cube-rootfs: error: layer 1 "*'hardlink "etc/link" points to "nowhere", which does not exist'* ]]
  [[ "$stderr" != *"layer 2"* ]]
  no_output_left "$TMP/y.ext4"
  bounded convert "oci:$H/oci:bad-second" --out "$TMP/y.ext4"
  assert_failure 2
  [[ "$stderr" == "cube-rootfs: error: layer 2 "*"content digest is"* ]]
  no_output_left "$TMP/y.ext4"
  # A docker-archive of two images is refused, naming both.
  bounded convert "$H/two-images.tar" --out "$TMP/y.ext4"
  assert_failure 2
  [[ "$stderr" == *"holds 2 images"*"first:1, second:2"* ]]
}
