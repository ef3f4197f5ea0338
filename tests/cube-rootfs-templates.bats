#!/usr/bin/env bats
# cube-rootfs templates, jobs, redo after kill -9 at every phase, distribution, delete and gc.
load helpers
load fixtures/rootfs-images

setup_file() {
  make_fixture_images || return 0
}

setup() {
  cube_setup
  # These tests are about the image, not the cluster CA: build without it and without its warning
  # (the CA bake has its own tests in cube-rootfs-templates.bats).
  printf '[rootfs]\ncluster_ca = "none"\n' >"$CUBE_CONFIG"
  require_root
  require_command umoci
  require_command sqlite3
  STORE="$TMP/store"
}
teardown() {
  [ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null || true
  [ -n "${WATCH:-}" ] && kill "$WATCH" 2>/dev/null || true
  [ -n "${WAITER:-}" ] && kill -9 "$WAITER" 2>/dev/null || true
  [ -n "${FUSE_MNT:-}" ] && umount "$FUSE_MNT" 2>/dev/null || true
  cube_teardown
}

q() { sqlite3 "$CUBE_STATE" "$1"; }
last_tpl() { q "SELECT template_id FROM templates ORDER BY created_ms DESC, rowid DESC LIMIT 1"; }
job_of() { q "SELECT $2 FROM jobs WHERE template_id = '$1' ORDER BY attempt_no DESC LIMIT 1"; }

# Starts a build paused at phase $1 in the background and waits until the state file shows it.
start_paused() {
  local phase=$1
  shift
  CUBE_ROOTFS_PAUSE_AT=$phase cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" "$@" >/dev/null 2>&1 &
  BG=$!
  for _ in $(seq 200); do
    tpl=$(last_tpl 2>/dev/null || true)
    if [ -n "$tpl" ] && [ "$(job_of "$tpl" phase)" = "$phase" ]; then break; fi
    sleep 0.1
  done
  [ "$(job_of "$tpl" phase)" = "$phase" ]
}

@test "build: a READY template with a generated tpl- ID, its artifact and a clean ext4" {
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --template-id tpl-mine \
    --expose 8080 --expose 49983 --env A=1 --cmd /bin/sh --cmd -c --dns 1.1.1.1 --allow-out example.com \
    --no-internet -o json
  assert_success
  [[ "$stderr" == *"ignoring --template-id tpl-mine"* ]]
  tpl=$(jq -r .template_id <<<"$output")
  [[ "$tpl" =~ ^tpl-[0-9a-f]{24}$ ]]
  [ "$(jq -r .status <<<"$output")" = READY ]
  [ "$(jq -r .allow_internet_access <<<"$output")" = false ]
  [ "$(jq -r .dns <<<"$output")" = 1.1.1.1 ]
  [ "$(jq -r .allow_out <<<"$output")" = example.com ]
  [ "$(jq -r .exposed_ports <<<"$output")" = 8080,49983 ]
  art=$(jq -r .artifact_id <<<"$output")
  [[ "$art" =~ ^rfs-[0-9a-f]{24}$ ]]
  e2fsck -fn "$STORE/$art/$art.ext4"
  [ "$(sha256sum "$STORE/$art/$art.ext4" | cut -d' ' -f1)" = "$(jq -r .ext4_sha256 <<<"$output")" ]
  [ "$(jq -r .artifact_id "$STORE/$art/manifest.json")" = "$art" ]
  [ "$(wc -l <"$STORE/$art/$art.files.jsonl")" -gt 30 ]
  run cube-rootfs list -o json
  [ "$(jq -r '.[0].template_id' <<<"$output")" = "$tpl" ]
  run cube-rootfs show "$tpl" -o json
  [ "$(jq -r .job_phase <<<"$output")" = READY ]
  [ "$(jq -r .job_progress <<<"$output")" = 100 ]
}

@test "build: an identical request reuses the READY artifact without building" {
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" >/dev/null
  art=$(q "SELECT artifact_id FROM artifacts")
  before=$(stat -c %Y.%i "$STORE/$art/$art.ext4")
  run --separate-stderr cube-rootfs -v build "oci:$FIX/oci:rules" --store "$STORE" -o json
  assert_success
  [[ "$stderr" == *"reusing artifact $art"* ]]
  [ "$(jq -r .artifact_id <<<"$output")" = "$art" ]
  [ "$(stat -c %Y.%i "$STORE/$art/$art.ext4")" = "$before" ]
  [ "$(q 'SELECT COUNT(*) FROM templates')" = 2 ]
  # Another writable layer size is another spec: another artifact.
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --writable-layer-size 2G >/dev/null
  [ "$(q 'SELECT COUNT(*) FROM artifacts')" = 2 ]
}

@test "build: request validation (doc/cube-rootfs.md, \"Requests\")" {
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --expose 1 --expose 2 --expose 3 --expose 4
  assert_failure 2
  [[ "$stderr" == *"4 ports exposed"* ]]
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --expose 70000
  assert_failure 2
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --allow-out example.com
  assert_failure 2
  [[ "$stderr" == *"you must disable public outbound traffic"* ]]
  run cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --allow-out example.com --deny-out 0.0.0.0/0 -o json
  assert_success
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --env 1BAD=x
  assert_failure 2
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --dns not-an-ip
  assert_failure 2
  run --separate-stderr cube-rootfs build --pull -- "-oops" --store "$STORE"
  assert_failure 2
  # The registry options need --pull, and --cert-dir a directory.
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --no-tls-verify
  assert_failure 2
  [[ "$stderr" == *"need --pull"* ]]
  run --separate-stderr cube-rootfs build --pull localhost:1/a:b --store "$STORE" --cert-dir /etc/hostname
  assert_failure 2
  [[ "$stderr" == *"--cert-dir /etc/hostname is not a directory"* ]]
  [ "$(q "SELECT COUNT(*) FROM templates WHERE status != 'READY'")" = 0 ]
}

@test "build: the stored request never holds the registry password" {
  printf 'alice:s3cret-pw\n' >"$TMP/auth"
  run --separate-stderr cube-rootfs build --pull localhost:1/none/image:latest --registry-auth "$TMP/auth" --store "$STORE"
  assert_failure
  tpl=$(last_tpl)
  [ "$(job_of "$tpl" status)" = FAILED ]
  [ "$(job_of "$tpl" phase)" = PULLING ]
  [ "$(q "SELECT json_extract(request_json, '$.registry_user') FROM templates")" = alice ]
  ! grep -a -q s3cret-pw "$CUBE_STATE"
  ! grep -r -a -q s3cret-pw "$STORE" 2>/dev/null
}

@test "build: the disk pre-check fails fast naming available and required space" {
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --size 16T --safety-margin 1000
  assert_failure 4
  [[ "$stderr" == *"insufficient disk space"*"available="*"GiB, estimated_required="*"GiB"* ]]
  [ -z "$(find "$STORE" -name '*.ext4*')" ]
}

@test "kill -9 at every phase, then redo resumes and finishes" {
  size=1
  for phase in PULLING UNPACKING BUILDING_EXT4 DISTRIBUTING; do
    # Each round asks for another spec, so no round reuses the previous round's artifact.
    size=$((size + 1))
    start_paused "$phase" --to n1="$TMP/n1-$phase" --writable-layer-size "${size}G"
    tpl=$(last_tpl)
    # A live runner cannot be redone.
    run --separate-stderr cube-rootfs redo "$tpl"
    assert_failure 4
    kill -9 "$BG"
    wait "$BG" 2>/dev/null || true
    BG=
    [ "$(job_of "$tpl" status)" = RUNNING ]
    run --separate-stderr cube-rootfs redo "$tpl" -o json
    assert_success
    [ "$(jq -r .status <<<"$output")" = READY ]
    [ "$(jq -r .template_id <<<"$output")" = "$tpl" ]
    [ "$(jq -r .replicas <<<"$output")" = n1:READY ]
    [ "$(q "SELECT status FROM jobs WHERE template_id = '$tpl' AND attempt_no = 1")" = FAILED ]
    want=$phase
    [ "$phase" = UNPACKING ] && want=BUILDING_EXT4
    [ "$(job_of "$tpl" resume_phase)" = "$want" ]
    art=$(jq -r .artifact_id <<<"$output")
    e2fsck -fn "$TMP/n1-$phase/$art/$art.ext4" >/dev/null
    [ -z "$(find "$STORE" -name '*.part')" ]
  done
}

@test "redo after a kill in DISTRIBUTING does not rebuild the artifact" {
  start_paused DISTRIBUTING --to n1="$TMP/n1"
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  before=$(stat -c %Y.%i "$STORE/$art/$art.ext4")
  kill -9 "$BG"
  wait "$BG" 2>/dev/null || true
  BG=
  cube-rootfs redo "$tpl" >/dev/null
  [ "$(stat -c %Y.%i "$STORE/$art/$art.ext4")" = "$before" ]
}

@test "redo in DISTRIBUTING waits for the artifact's lock and rebuilds an artifact removed meanwhile" {
  start_paused DISTRIBUTING --to n1="$TMP/n1"
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  kill -9 "$BG"
  wait "$BG" 2>/dev/null || true
  BG=
  # Another job holds the artifact, and removes it (as one whose copies all failed does) while the
  # redo waits for it.
  exec 9>"$STORE/.locks/$art"
  flock -x 9
  cube-rootfs redo "$tpl" -o json >"$TMP/redo.json" 2>"$TMP/redo.err" 9>&- &  # the lock is fd 9's alone
  WAITER=$!
  poll_until 30 grep -q "another job or gc is working on artifact $art: waiting for it to end" "$TMP/redo.err"
  rm -r "${STORE:?}/$art"
  q "UPDATE artifacts SET status = 'FAILED' WHERE artifact_id = '$art'"
  exec 9>&-
  gone() { ! kill -0 "$WAITER" 2>/dev/null; }
  poll_until 120 gone
  wait "$WAITER"
  WAITER=
  [ "$(jq -r '.status + " " + .replicas' "$TMP/redo.json")" = "READY n1:READY" ]
  e2fsck -fn "$TMP/n1/$art/$art.ext4" >/dev/null
  e2fsck -fn "$STORE/$art/$art.ext4" >/dev/null
}

@test "distribution: a failing node, all failing, redo --mode failed-only, --via" {
  mkdir -p "$TMP/ok"
  : >"$TMP/blocked"  # a file where a directory should be: copies there fail
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --to good="$TMP/ok" \
    --to bad="$TMP/blocked" -o json
  assert_success
  tpl=$(jq -r .template_id <<<"$output")
  [ "$(jq -r .replicas <<<"$output")" = "bad:FAILED,good:READY" ]
  [ "$(job_of "$tpl" failed_node_count)" = 1 ]
  rm "$TMP/blocked"
  run cube-rootfs redo "$tpl" --mode failed-only -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "bad:READY,good:READY" ]
  run --separate-stderr cube-rootfs redo "$tpl" --mode failed-only
  assert_failure 3
  [[ "$stderr" == *"no failed template replicas matched"* ]]
  run --separate-stderr cube-rootfs redo "$tpl" --nodes nosuch
  assert_failure 3
  [[ "$stderr" == *"target nodes are not healthy or not found: nosuch"* ]]
  # Every node failing fails the job.
  : >"$TMP/b1"
  : >"$TMP/b2"
  run --separate-stderr cube-rootfs distribute "$tpl" --to x1="$TMP/b1" --to x2="$TMP/b2"
  assert_failure 1
  [[ "$stderr" == *"artifact distribution failed on all 2 nodes"* ]]
  [ "$(job_of "$tpl" status)" = FAILED ]
  [ "$(job_of "$tpl" phase)" = DISTRIBUTING ]
  # A transfer command.
  run cube-rootfs distribute "$tpl" --to remote="$TMP/remote" --via 'mkdir -p "$3" && cp -r "$1" "$3/"' -o json
  assert_success
  art=$(jq -r .artifact_id <<<"$output")
  cmp "$STORE/$art/$art.ext4" "$TMP/remote/$art/$art.ext4"
  [ "$(q "SELECT status FROM template_replicas WHERE node_id = 'remote'")" = READY ]
}

@test "a freshly built artifact that no node got is removed, files, node parts and row" {
  : >"$TMP/b1"  # files where the node stores should be: both copies fail
  : >"$TMP/b2"
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --to x1="$TMP/b1" --to x2="$TMP/b2"
  assert_failure 1
  [[ "$stderr" == *"artifact distribution failed on all 2 nodes"* ]]
  [[ "$stderr" == *"no node got a copy"* ]]
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  [ "$(q "SELECT count(*) FROM artifacts WHERE artifact_id = '$art'")" = 0 ]
  [ ! -e "$STORE/$art" ]
  [ ! -e "$STORE/.locks/$art" ]  # no row left for gc to find it by
  # Once the nodes are fixed, a redo builds it again and copies it.
  rm "$TMP/b1" "$TMP/b2"
  run cube-rootfs redo "$tpl" -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "x1:READY,x2:READY" ]
  [ -f "$STORE/$art/$art.ext4" ]
}

@test "gc and delete clean what failed copies left on nodes, and name the nodes they cannot reach" {
  mkdir -p "$TMP/good"
  tpl=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --to good="$TMP/good" -o json | jq -r .template_id)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  # On node bad, the image cannot be renamed into place: the other files and the .part stay.
  mkdir -p "$TMP/bad/$art/$art.ext4/blocker"
  run cube-rootfs distribute "$tpl" --to bad="$TMP/bad"
  assert_failure 1
  [ -f "$TMP/bad/$art/manifest.json" ]
  [ "$(q "SELECT cleanup_required FROM template_replicas WHERE node_id = 'bad'")" = 1 ]
  run --separate-stderr cube-rootfs gc --store "$STORE" -o json
  assert_success
  [ "$(jq -r '.[] | select(.status == "node bad") | .action' <<<"$output")" = "removed node copy" ]
  [ ! -e "$TMP/bad/$art" ]
  [ -f "$TMP/good/$art/$art.ext4" ]
  [ "$(q "SELECT cleanup_required FROM template_replicas WHERE node_id = 'bad'")" = 0 ]
  # A --via destination cannot be reached from here: said, and left flagged for later.
  run cube-rootfs distribute "$tpl" --to far=/remote/store --via 'exit 1'
  assert_failure 1
  run --separate-stderr cube-rootfs delete "$tpl"
  assert_success
  [[ "$stderr" == *"artifact cleanup incomplete: could not clean the failed copies on far"* ]]
}

@test "delete and gc: unreferenced artifacts go, referenced ones stay, only the artifact's own directory" {
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" >/dev/null
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  run cube-rootfs gc --store "$STORE" --grace 0s -o json
  assert_success
  [ "$(jq length <<<"$output")" = 0 ]
  [ -d "$STORE/$art" ]
  cube-rootfs delete "$tpl"
  run cube-rootfs show "$tpl"
  assert_failure 3
  # Within the 7-day deadline an unreferenced READY artifact is kept.
  run cube-rootfs gc --store "$STORE" -o json
  [[ "$(jq -r '.[0].action' <<<"$output")" == "kept until"* ]]
  run cube-rootfs gc --store "$STORE" --grace 0s -o json
  [ "$(jq -r '.[0].action' <<<"$output")" = "removed directory" ]
  [ ! -e "$STORE/$art" ]
  [ "$(q 'SELECT COUNT(*) FROM artifacts')" = 0 ]
  # An artifact whose file sits elsewhere loses only its file.
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" >/dev/null
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  mkdir -p "$TMP/elsewhere"
  cp "$STORE/$art/$art.ext4" "$TMP/elsewhere/keep-me.ext4"
  echo other >"$TMP/elsewhere/other"
  q "UPDATE artifacts SET ext4_path = '$TMP/elsewhere/keep-me.ext4'"
  cube-rootfs delete "$tpl"
  run cube-rootfs gc --store "$STORE" --grace 0s -o json
  [ "$(jq -r '.[0].action' <<<"$output")" = "removed file" ]
  [ -f "$TMP/elsewhere/other" ] && [ ! -e "$TMP/elsewhere/keep-me.ext4" ]
}

@test "two builds of one spec: the second waits for the first's job, then builds the artifact afresh or reuses it" {
  start_paused BUILDING_EXT4
  first=$tpl
  art=$(q "SELECT artifact_id FROM jobs WHERE template_id = '$first'")
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json >"$TMP/second.json" 2>"$TMP/second.err" &
  WAITER=$!
  poll_until 30 grep -q "another job or gc is working on artifact $art: waiting for it to end" "$TMP/second.err"
  # While it waits, the first job's artifact is untouched: its row, its files, no failure recorded.
  kill -0 "$WAITER"
  [ "$(q "SELECT status FROM artifacts WHERE artifact_id = '$art'")" = BUILDING ]
  [ -e "$STORE/$art/$art.ext4" ] || [ -e "$STORE/$art/$art.ext4.part" ]
  # The first dies mid-build: the second gets the lock and builds the artifact whole.
  kill -9 "$BG"
  wait "$BG" 2>/dev/null || true
  BG=
  gone() { ! kill -0 "$WAITER" 2>/dev/null; }
  poll_until 120 gone  # bounded: a second job that never got the lock must fail here, not hang
  wait "$WAITER"
  WAITER=
  [ "$(jq -r '.status + " " + .artifact_id' "$TMP/second.json")" = "READY $art" ]
  e2fsck -fn "$STORE/$art/$art.ext4"
  [ -f "$STORE/$art/manifest.json" ]
  # A third build of the spec, once nothing holds it, reuses the artifact at once.
  run --separate-stderr cube-rootfs -v build "oci:$FIX/oci:rules" --store "$STORE" -o json
  assert_success
  [[ "$stderr" == *"reusing artifact $art"* ]]
  [[ "$stderr" != *"waiting for it to end"* ]]
}

@test "gc keeps an artifact a job holds, and removes it with its lock file once none does" {
  cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" >/dev/null
  tpl=$(last_tpl)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  cube-rootfs delete "$tpl"
  [ -f "$STORE/.locks/$art" ]
  # A job holds the artifact's lock (one building it again, say): gc leaves it whole.
  exec 9>"$STORE/.locks/$art"
  flock -x 9
  for dry in --dry-run ""; do
    run --separate-stderr cube-rootfs gc --store "$STORE" --grace 0s $dry -o json 9>&-
    assert_success
    [ "$(jq -r '.[0].action' <<<"$output")" = "kept (a job or another gc holds it)" ]
  done
  [ -f "$STORE/$art/$art.ext4" ]
  [ "$(q "SELECT COUNT(*) FROM artifacts WHERE artifact_id = '$art'")" = 1 ]
  exec 9>&-
  run --separate-stderr cube-rootfs gc --store "$STORE" --grace 0s -o json
  assert_success
  [ "$(jq -r '.[0].action' <<<"$output")" = "removed directory" ]
  [ ! -e "$STORE/$art" ]
  [ ! -e "$STORE/.locks/$art" ]
}

@test "build from standard input, and redo after a kill re-reads the kept copy" {
  CUBE_ROOTFS_PAUSE_AT=UNPACKING cube-rootfs build - --store "$STORE" <"$FIX/flat.tar" >/dev/null 2>&1 &
  BG=$!
  for _ in $(seq 200); do
    tpl=$(last_tpl 2>/dev/null || true)
    [ -n "$tpl" ] && [ "$(job_of "$tpl" phase)" = UNPACKING ] && break
    sleep 0.1
  done
  kill -9 "$BG"
  wait "$BG" 2>/dev/null || true
  BG=
  run cube-rootfs redo "$tpl" -o json
  assert_success
  [ "$(jq -r .status <<<"$output")" = READY ]
  [ ! -e "$STORE/.incoming/$tpl.tar" ]
}

@test "--add-ca appends to trust bundles, fills anchor dirs, or seeds a bundle; it changes the fingerprint" {
  require_command openssl
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.pem" \
    -subj /CN=cube-test-ca -days 2 2>/dev/null
  mkdir -p "$TMP/r/etc/ssl/certs" "$TMP/r/usr/local/share/ca-certificates"
  printf 'EXISTING BUNDLE\n' >"$TMP/r/etc/ssl/certs/ca-certificates.crt"
  ln -s certs/ca-certificates.crt "$TMP/r/etc/ssl/cert.pem"
  tar -C "$TMP/r" -cf "$TMP/r.tar" .
  run cube-rootfs build "$TMP/r.tar" --store "$STORE" --add-ca "$TMP/ca.pem" -o json
  assert_success
  art=$(jq -r .artifact_id <<<"$output")
  [ "$(jq -r .ca_fingerprint <<<"$output")" = "$(sha256sum "$TMP/ca.pem" | cut -d' ' -f1)" ]
  img="$STORE/$art/$art.ext4"
  e2fsck -fn "$img"
  diff <(debugfs -R "cat /etc/ssl/certs/ca-certificates.crt" "$img" 2>/dev/null) \
    <(printf 'EXISTING BUNDLE\n\n'; cat "$TMP/ca.pem")
  diff <(debugfs -R "cat /usr/local/share/ca-certificates/cube-egress-root.crt" "$img" 2>/dev/null) "$TMP/ca.pem"
  [ "$(q "SELECT cube_egress_ca_baked || ':' || cube_egress_ca_targets_written FROM artifacts")" = 1:2 ]
  # The bundle's SHA-256 in files.jsonl is of its bytes with the CA, also from a gzip layer (spooled
  # as it is inflated, before the CA is appended).
  gzip -c "$TMP/r.tar" >"$TMP/r.tar.gz"
  run cube-rootfs build "$TMP/r.tar.gz" --store "$STORE" --add-ca "$TMP/ca.pem" -o json
  assert_success
  art3=$(jq -r .artifact_id <<<"$output")
  want=$( (printf 'EXISTING BUNDLE\n\n'; cat "$TMP/ca.pem") | sha256sum | cut -d' ' -f1)
  [ "$(jq -r 'select(.path == "/etc/ssl/certs/ca-certificates.crt") | .sha256' "$STORE/$art3/$art3.files.jsonl")" = "$want" ]
  # An image without a trust store gets one seeded.
  run cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --add-ca "$TMP/ca.pem" -o json
  art2=$(jq -r .artifact_id <<<"$output")
  diff <(debugfs -R "cat /etc/ssl/certs/ca-certificates.crt" "$STORE/$art2/$art2.ext4" 2>/dev/null) "$TMP/ca.pem"
  run cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json
  [ "$(jq -r .artifact_id <<<"$output")" != "$art2" ]
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --add-ca "$TMP/ca.key"
  assert_failure 2
}

@test "build bakes the cluster CA by default when the node has one, warns when not; --no-ca, --with-ca" {
  require_command openssl
  : >"$CUBE_CONFIG"  # the default: cluster_ca = auto
  # No CA installed: the build goes on without one and says so.
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json
  assert_success
  [ "$(jq -r '.ca_fingerprint // ""' <<<"$output")" = "" ]
  [[ "$stderr" == *"warning: no cluster CA at $TMP/ca/cube-root-ca.crt"* ]]
  plain=$(jq -r .artifact_id <<<"$output")
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --with-ca
  assert_failure 3
  [[ "$stderr" == *"--with-ca: no cluster CA"* ]]
  # With the cluster CA (beside the config file), the template trusts it and the build says so.
  cube-egress-rules ca init --days 30 -q >/dev/null
  cert="$TMP/ca/cube-root-ca.crt"
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json
  assert_success
  [ "$(jq -r .ca_fingerprint <<<"$output")" = "$(sha256sum "$cert" | cut -d' ' -f1)" ]
  [[ "$stderr" == *"info: baking the cluster CA $cert"* ]]
  art=$(jq -r .artifact_id <<<"$output")
  [ "$art" != "$plain" ]
  diff <(debugfs -R "cat /etc/ssl/certs/ca-certificates.crt" "$STORE/$art/$art.ext4" 2>/dev/null) "$cert"
  [ "$(cube-egress-rules ca show -o json | jq -r .pem_sha256)" = "$(jq -r .ca_fingerprint <<<"$output")" ]
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --with-ca -o json
  assert_success
  [ "$(jq -r .artifact_id <<<"$output")" = "$art" ]
  # --no-ca opts out quietly: the same artifact as without a CA.
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --no-ca -o json
  assert_success
  [ "$(jq -r .artifact_id <<<"$output")" = "$plain" ]
  [ -z "$stderr" ]
  # --add-ca names another CA, which replaces the cluster's.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/other.key" \
    -out "$TMP/other.pem" -subj /CN=other -days 2 2>/dev/null
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --add-ca "$TMP/other.pem" -o json
  [ "$(jq -r .ca_fingerprint <<<"$output")" = "$(sha256sum "$TMP/other.pem" | cut -d' ' -f1)" ]
  for bad in "--no-ca --with-ca" "--no-ca --add-ca $TMP/other.pem" "--with-ca --add-ca $TMP/other.pem"; do
    # shellcheck disable=SC2086
    run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" $bad
    assert_failure 2
  done
  # The config says the same as the flags, for a whole node.
  rm -r "$TMP/ca"
  printf '[rootfs]\ncluster_ca = "required"\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE"
  assert_failure 3
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --no-ca -o json
  assert_success
  printf '[rootfs]\ncluster_ca = "sometimes"\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE"
  assert_failure 2
  [[ "$stderr" == *"cluster_ca"*"auto, required or none"* ]]
}

@test "build: a store on FUSE gets the image written in --work-dir, then moved in" {
  require_command fuse2fs
  require_command inotifywait
  [ -c /dev/fuse ] || skip "needs /dev/fuse"
  # The store: an ext4 image file mounted through FUSE (fuse2fs), so statfs says FUSE.
  truncate -s 512M "$TMP/store.img"
  mkfs.ext4 -q -F "$TMP/store.img"
  mkdir "$TMP/mnt"
  fuse2fs "$TMP/store.img" "$TMP/mnt" || skip "fuse2fs cannot mount here"
  FUSE_MNT="$TMP/mnt"
  [[ "$(stat -f -c %T "$TMP/mnt")" == fuse* ]]
  # Watch the work directory: the image must be made there, then leave it.
  mkdir -m 0700 "$TMP/work"
  inotifywait -m "$TMP/work" -e create,moved_to,delete --format '%e %f' >"$TMP/events" 2>"$TMP/watch.err" &
  WATCH=$!
  for _ in $(seq 100); do grep -q "Watches established" "$TMP/watch.err" && break; sleep 0.05; done
  run --separate-stderr cube-rootfs build "oci:$FIX/oci:rules" --store "$TMP/mnt/store" --work-dir "$TMP/work" \
    --size exact -o json
  assert_success
  [ "$(jq -r .status <<<"$output")" = READY ]
  art=$(jq -r .artifact_id <<<"$output")
  img="$TMP/mnt/store/$art/$art.ext4"
  [ "$(jq -r .ext4_path <<<"$output")" = "$img" ]
  e2fsck -fn "$img"
  # Moved in byte for byte: the SHA-256 computed while writing in the work directory matches.
  [ "$(sha256sum "$img" | cut -d' ' -f1)" = "$(jq -r .ext4_sha256 <<<"$output")" ]
  [ -z "$(ls -A "$TMP/work")" ]
  kill "$WATCH"
  wait "$WATCH" 2>/dev/null || true
  WATCH=
  grep -qx "CREATE $art.ext4.part" "$TMP/events"
  grep -qx "MOVED_TO $art.ext4" "$TMP/events"
  grep -qx "DELETE $art.ext4" "$TMP/events"
  [ "$(q "SELECT json_extract(request_json, '$.work_dir') FROM templates")" = "$TMP/work" ]
  # A store on a local file system is written in place: the work directory is left alone.
  mkdir "$TMP/unused"
  run cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --work-dir "$TMP/unused" --size exact -o json
  assert_success
  [ -z "$(ls -A "$TMP/unused")" ]
}

# Targets from the cluster: this node is "here"; every other node's store is under $TMP/nodes.
cluster_config() {
  local pattern=${1:-}
  [ -n "$pattern" ] || pattern="$TMP/nodes/{node}/x-{node}"
  printf '[rootfs]\ncluster_ca = "none"\nnode = "here"\nnode_store = "%s"\n' "$pattern" >"$CUBE_CONFIG"
}
# node_up NODE TYPE ADDRESS [heartbeat options…]: registered and heartbeating now.
node_up() {
  cube-sched node register "$1" --cpu 4 --mem 8G --instance-type "$2" --address "$3" >/dev/null
  cube-sched heartbeat "$1" --cpu-util 10 --mem-free 1T "${@:4}" >/dev/null
}
# A heartbeat two minutes old, as a node that went silent leaves it.
go_silent() { q "UPDATE node_heartbeats SET heartbeat_ms = heartbeat_ms - 120000 WHERE node_id = '$1'"; }
replica_targets() { q "SELECT node_id || '=' || target FROM template_replicas WHERE template_id = '$1' ORDER BY node_id"; }
stored_targets() { q "SELECT json_array_length(request_json, '\$.targets') FROM templates WHERE template_id = '$1'"; }

@test "distribute without --to: the healthy nodes of the type, each in node_store, this node in the store" {
  cluster_config
  node_up here cubebox 10.0.0.1
  node_up n1 cubebox 10.0.0.11
  node_up n2 cubebox 10.0.0.12
  go_silent n2
  node_up n3 gpu 10.0.0.13
  node_up n4 cubebox 10.0.0.14 --not-ready
  tpl=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json | jq -r .template_id)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  [ -z "$(replica_targets "$tpl")" ]  # build copies only to --to nodes
  run --separate-stderr cube-rootfs distribute "$tpl" -v -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "here:READY,n1:READY" ]
  [[ "$stderr" == *"node n2: left out: unhealthy (HeartbeatExpired)"* ]]
  [[ "$stderr" == *"node n3: left out: instance type gpu, not cubebox"* ]]
  [[ "$stderr" == *"node n4: left out: unhealthy (ReportedNotReady)"* ]]
  [[ "$stderr" == *"node here: target, store $STORE (this node: no copy)"* ]]
  # Every {node} of the pattern is the node's ID; this node's copy is the store's own.
  cmp "$STORE/$art/$art.ext4" "$TMP/nodes/n1/x-n1/$art/$art.ext4"
  [ "$(ls "$TMP/nodes")" = n1 ]
  [ "$(replica_targets "$tpl" | tr '\n' ' ')" = "here=$STORE n1=$TMP/nodes/n1/x-n1 " ]
  [ "$(job_of "$tpl" expected_node_count)" = 2 ]
  [ "$(stored_targets "$tpl")" = 0 ]  # asked again at each job, never stored

  # n2 comes back: a failed-only redo asks the registry again and copies to it alone.
  node_up n2 cubebox 10.0.0.12
  run --separate-stderr cube-rootfs redo "$tpl" -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "here:READY,n1:READY,n2:READY" ]
  [ "$(job_of "$tpl" expected_node_count)" = 1 ]
  cmp "$STORE/$art/$art.ext4" "$TMP/nodes/n2/x-n2/$art/$art.ext4"
  run --separate-stderr cube-rootfs redo "$tpl"
  assert_failure 3
  [[ "$stderr" == *"no failed template replicas matched"* ]]
  run --separate-stderr cube-rootfs redo "$tpl" --mode all --nodes n3
  assert_failure 3
  [[ "$stderr" == *"target nodes are not healthy or not found: n3 (n3: instance type gpu, not cubebox"* ]]

  # --to overrides the registry, and its targets are stored as before.
  run cube-rootfs distribute "$tpl" --to x="$TMP/x" -o json
  assert_success
  [ "$(job_of "$tpl" expected_node_count)" = 1 ]
  [ -f "$TMP/x/$art/$art.ext4" ]
  [ "$(stored_targets "$tpl")" = 1 ]

  # A --via command gets the node's registered address as $4; this node is never copied to.
  tpl=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" -o json | jq -r .template_id)
  run cube-rootfs distribute "$tpl" --via "echo \"\$2 \$3 \$4\" >>$TMP/via.log" -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "here:READY,n1:READY,n2:READY" ]
  [ "$(sort "$TMP/via.log" | tr '\n' ' ')" = "n1 $TMP/nodes/n1/x-n1 10.0.0.11 n2 $TMP/nodes/n2/x-n2 10.0.0.12 " ]
}

@test "distribute without --to keeps to the template's node scope, and names scoped nodes left out" {
  cluster_config
  node_up here cubebox 10.0.0.1
  node_up n1 cubebox 10.0.0.11
  node_up n2 cubebox 10.0.0.12
  node_up n3 cubebox 10.0.0.13
  go_silent n2
  tpl=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --node-scope n1 --node-scope n2 \
    --node-scope n9 -o json | jq -r .template_id)
  art=$(q "SELECT artifact_id FROM templates WHERE template_id = '$tpl'")
  run --separate-stderr cube-rootfs distribute "$tpl" -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "n1:READY" ]
  [[ "$stderr" == *"warning: node n2 of the template's node scope is left out: unhealthy (HeartbeatExpired)"* ]]
  [[ "$stderr" == *"warning: node n9 of the template's node scope is left out: in the template's node scope but not registered"* ]]
  [[ "$stderr" != *"n3"* ]]  # out of scope: said with -v only
  [ "$(ls "$TMP/nodes")" = n1 ]
  [ -f "$TMP/nodes/n1/x-n1/$art/$art.ext4" ]
}

@test "no eligible node: distribute and redo fail with exit 3 naming the type and why each node is out" {
  cluster_config
  tpl=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --node-scope n1 --node-scope n2 -o json |
    jq -r .template_id)
  run --separate-stderr cube-rootfs distribute "$tpl"
  assert_failure 3
  [[ "$stderr" == *"no eligible node for template $tpl of instance type cubebox (n1: in the template's node scope but not registered; n2: in the template's node scope but not registered;"* ]]
  node_up n1 cubebox 10.0.0.11
  go_silent n1
  node_up n2 gpu 10.0.0.12
  node_up n3 cubebox 10.0.0.13
  for cmd in "distribute $tpl" "redo $tpl --mode all"; do
    run --separate-stderr cube-rootfs $cmd
    assert_failure 3
    [[ "$stderr" == *"error: no eligible node for template $tpl of instance type cubebox (n1: unhealthy (HeartbeatExpired); n2: instance type gpu, not cubebox; n3: not in the template's node scope;"* ]]
  done
  # Nothing was started, copied or recorded.
  [ "$(q "SELECT count(*) FROM jobs WHERE template_id = '$tpl'")" = 1 ]
  [ "$(q "SELECT count(*) FROM template_replicas")" = 0 ]
  [ ! -e "$TMP/nodes" ]
  # Without node_store, only this node has a store: the others say so.
  printf '[rootfs]\ncluster_ca = "none"\nnode = "here"\n' >"$CUBE_CONFIG"
  tpl2=$(cube-rootfs build "oci:$FIX/oci:rules" --store "$STORE" --writable-layer-size 2G -o json | jq -r .template_id)
  run --separate-stderr cube-rootfs distribute "$tpl2"
  assert_failure 3
  [[ "$stderr" == *"n3: no store directory ([rootfs] node_store is not set)"* ]]
  node_up here cubebox 10.0.0.1
  run cube-rootfs distribute "$tpl2" -o json
  assert_success
  [ "$(jq -r .replicas <<<"$output")" = "here:READY" ]
}

@test "[rootfs] node_store: a pattern without {node}, relative, with .. or another placeholder is exit 2" {
  for bad in "/srv/cube/store" "nodes/{node}" "/srv/../{node}" "/srv/{node}/.." "/srv/{address}/{node}"; do
    cluster_config "$bad"
    run --separate-stderr cube-rootfs distribute tpl-0123456789abcdef01234567
    assert_failure 2
    [[ "$stderr" == *"error: [rootfs] node_store = \"$bad\":"* ]]
    run --separate-stderr cube-rootfs config
    assert_failure 2
  done
  [ ! -e "$CUBE_STATE" ]
  printf '[rootfs]\nnode = "a/b"\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-rootfs redo tpl-0123456789abcdef01234567
  assert_failure 2
  [[ "$stderr" == *'[rootfs] node = "a/b": not a node ID'* ]]
  cluster_config
  run cube-rootfs config -o json
  assert_success
  [ "$(jq -r '.[] | select(.key == "rootfs.node_store") | .value' <<<"$output")" = "$TMP/nodes/{node}/x-{node}" ]
  [ "$(jq -r '.[] | select(.key == "state.cluster") | .value' <<<"$output")" = "${CUBE_CLUSTER_URL:-}" ]
}
