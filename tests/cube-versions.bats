#!/usr/bin/env bats
# cube-versions through the real binary: manifest, collect, ingest, matrix, --check, bad input.
# tests/cube-versions-pg.bats is a link to this file: run under that name, every test here runs
# with the cluster tables in a PostgreSQL 15 server of the file's own (tests/pg-helpers.bash), a
# fresh schema per test, through $CUBE_CLUSTER_URL: both backends, the same tests.
load helpers
load pg-helpers

setup_file() { pg_suite_start; }
teardown_file() { pg_suite_stop; }
setup() {
  cube_setup
  pg_suite_schema
  # collect lists the cube-* binaries beside it; give it a directory with cube-versions alone, so
  # the expected component lists do not change as other tools are built.
  mkdir -p "$TMP/bin"
  cp "$CUBE_BUILD/bin/cube-versions" "$TMP/bin/"
  printf '[versions]\nbin_dir = "%s"\n' "$TMP/bin" >"$CUBE_CONFIG"
  BASE="$TMP/base"
  mkdir -p "$BASE/cube-image" "$BASE/cube-egress" "$BASE/cube-kernel-scf"
  echo "1.4.0" >"$BASE/cube-image/version"
  echo "2.0.1" >"$BASE/cube-egress/version"
  printf 'kernel' >"$TMP/vmlinux"
  KERNEL="6.6.30@sha256:$(sha256sum "$TMP/vmlinux" | cut -d' ' -f1)"
  cube-versions manifest --release-version 0.4.0 --guest-image-version 1.4.0 --kernel-version 6.6.30 \
    --vmlinux "$TMP/vmlinux" --out "$BASE/release-manifest.json"
}
teardown() { cube_teardown; }

# report NODE GUEST_IMAGE_VERSION: collect as that node would, and record it.
report() {
  echo "$2" >"$BASE/cube-image/version"
  cube-versions collect --base "$BASE" --node "$1" --report -o json
}

rows() { cluster_sql "SELECT count(*) FROM node_component_version $1"; }
# No version row was written: possibly no state file at all, or on PostgreSQL a schema no tool
# has migrated (bad input is refused before the store is opened).
no_rows() {
  if on_pg; then
    [ -z "$(cluster_sql "SELECT to_regclass('node_component_version')")" ] || [ "$(rows "")" -eq 0 ]
  else
    [ ! -e "$CUBE_STATE" ] || [ "$(rows "")" -eq 0 ]
  fi
}

@test "manifest: the upstream shape, pretty with a trailing newline, digests of every built tool" {
  run cube-versions manifest --release-version 0.4.0 --guest-image-version 1.4.0 --agent-version 0.9.1 --vmlinux "$TMP/vmlinux"
  assert_success
  jq -e . <<<"$output" >/dev/null
  [ "$(jq -r '[keys[]]|join(",")' <<<"$output")" = "built_at,built_by,components,git_commit,guest_image,kernel,release_version" ]
  [ "$(jq -r .release_version <<<"$output")" = 0.4.0 ]
  [ "$(jq -r .built_by <<<"$output")" = manual ]
  [ "$(jq -r .guest_image.agent_version <<<"$output")" = 0.9.1 ]
  [ "$(jq -r .kernel.version <<<"$output")" = unknown ]
  for bin in "$CUBE_BUILD"/bin/cube-*; do
    t=$(basename "$bin")
    want="sha256:$(sha256sum "$bin" | cut -d' ' -f1)"
    [ "$(jq -r ".components[\"$t\"].digest_sha256" <<<"$output")" = "$want" ]
    [ "$(jq -r ".components[\"$t\"].version" <<<"$output")" = "$("$t" --version -o json | jq -r .version)" ]
  done
  cube-versions manifest --vmlinux "$TMP/vmlinux" --out "$TMP/m.json"
  [ "$(tail -c1 "$TMP/m.json" | od -An -c | tr -d ' ')" = '\n' ]
  grep -q '^  "release_version": ' "$TMP/m.json"
}

@test "manifest: guest image and kernel from files; PVM fields only with a PVM kernel" {
  printf ' 1.5.0 \nignored\n' >"$TMP/gv"
  printf 'kernel' >"$TMP/vmlinux"
  run cube-versions manifest --guest-image-version-file "$TMP/gv" --kernel-version 6.6 --vmlinux "$TMP/vmlinux"
  assert_success
  [ "$(jq -r .guest_image.version <<<"$output")" = 1.5.0 ]
  [ "$(jq -r .kernel.vmlinux_digest_sha256 <<<"$output")" = "sha256:$(sha256sum "$TMP/vmlinux" | cut -d' ' -f1)" ]
  [ "$(jq -r '.kernel|has("pvm_version")' <<<"$output")" = false ]
  printf 'pvm' >"$TMP/pvm"
  run cube-versions manifest --vmlinux "$TMP/vmlinux" --vmlinux-pvm "$TMP/pvm" --pvm-version 6.6-pvm
  [ "$(jq -r .kernel.pvm_version <<<"$output")" = 6.6-pvm ]
  GITHUB_ACTIONS=true run cube-versions manifest --no-kernel
  [ "$(jq -r .built_by <<<"$output")" = github-actions ]
}

@test "manifest: a missing binary directory is bad input" {
  run --separate-stderr cube-versions manifest --bin-dir "$TMP/nope" --no-kernel
  assert_failure 2
  [[ "$stderr" == "cube-versions: error: cannot read binary directory $TMP/nope"* ]]
}

@test "manifest: the kernel image is mandatory unless declared absent; versions are one line" {
  run --separate-stderr cube-versions manifest --kernel-version 6.6
  assert_failure 2
  [[ "$stderr" == *"the kernel image is mandatory"*"--no-kernel"* ]]
  run cube-versions manifest --no-kernel
  assert_success
  [ "$(jq -r '.kernel.version + " " + .kernel.vmlinux_digest_sha256' <<<"$output")" = "none none" ]
  cube-versions manifest --no-kernel --out "$BASE/release-manifest.json"
  run cube-versions collect --base "$BASE" -o json
  [ "$(jq -r 'map(.component)|index("kernel")' <<<"$output")" = null ]  # nothing to report, declared
  run --separate-stderr cube-versions manifest --no-kernel --vmlinux "$TMP/vmlinux"
  assert_failure 2
  for flag in --release-version --guest-image-version --agent-version --kernel-version --base-image; do
    run --separate-stderr cube-versions manifest --vmlinux "$TMP/vmlinux" "$flag" $'1.0\nforged\tline'
    assert_failure 2
    [[ "$stderr" == *"$flag contains a control character"* ]]
  done
  printf '1.0\0evil\n' >"$TMP/gv"
  run --separate-stderr cube-versions manifest --vmlinux "$TMP/vmlinux" --guest-image-version-file "$TMP/gv"
  assert_failure 2
  [[ "$stderr" == *"invalid guest image version"* ]]
  rm -f "$TMP/out.json"
  run cube-versions manifest --vmlinux "$TMP/vmlinux" --release-version $'x\ny' --out "$TMP/out.json"
  [ ! -e "$TMP/out.json" ]
}

@test "collect: the node's components with their sources" {
  run cube-versions collect --base "$BASE" -o json
  assert_success
  [ "$(jq -r 'map(.component)|join(",")' <<<"$output")" = "cube-agent,cube-egress,cube-versions,guest-image,kernel" ]
  [ "$(jq -r '.[]|select(.component=="guest-image")|.source+" "+.version' <<<"$output")" = "file 1.4.0" ]
  [ "$(jq -r '.[]|select(.component=="cube-versions")|.source' <<<"$output")" = binary ]
  [ "$(jq -r '.[]|select(.component=="kernel")|.version' <<<"$output")" = "$KERNEL" ]
}

@test "collect: the vmlinux symlink picks the kernel identity" {
  printf 'bm' >"$TMP/bm"
  printf 'pvm' >"$TMP/pvm"
  cube-versions manifest --kernel-version 6.6 --vmlinux "$TMP/bm" --pvm-version 6.6-pvm --vmlinux-pvm "$TMP/pvm" \
    --out "$BASE/release-manifest.json"
  ln -s vmlinux-pvm "$BASE/cube-kernel-scf/vmlinux"
  run cube-versions collect --base "$BASE" -o json
  [ "$(jq -r '.[]|select(.component=="kernel")|.version+" "+.source' <<<"$output")" = \
    "6.6-pvm@sha256:$(sha256sum "$TMP/pvm" | cut -d' ' -f1) file" ]
  ln -sfn vmlinux-bm "$BASE/cube-kernel-scf/vmlinux"
  run cube-versions collect --base "$BASE" -o json
  [ "$(jq -r '.[]|select(.component=="kernel")|.version' <<<"$output")" = "6.6@sha256:$(sha256sum "$TMP/bm" | cut -d' ' -f1)" ]
}

@test "collect: missing sources never fail; -v says why" {
  run --separate-stderr cube-versions collect --base "$TMP/empty" -o json -v
  assert_success
  [ "$(jq -r 'map(.component)|join(",")' <<<"$output")" = "cube-versions" ]
  [[ "$stderr" == *"release-manifest.json"* ]]
  echo '{not json' >"$BASE/release-manifest.json"
  run --separate-stderr cube-versions collect --base "$BASE" -o json
  assert_success
  [ "$(jq -r 'map(.component)|join(",")' <<<"$output")" = "cube-egress,cube-versions,guest-image" ]
}

@test "ingest: collect -o jsonl piped into ingest records the node" {
  cube-versions collect --base "$BASE" -o jsonl | cube-versions ingest --node n7 -o json >"$TMP/out"
  [ "$(jq -r .changed "$TMP/out")" = true ]
  [ "$(rows "WHERE node_id='n7'")" -eq 5 ]
  [ "$(stat -c %a "$CUBE_STATE")" = 600 ]
}

@test "ingest: an unchanged report, in any order, skips the write" {
  cube-versions collect --base "$BASE" -o jsonl >"$TMP/r"
  cube-versions ingest --node n1 <"$TMP/r" >/dev/null
  # The test sets the recorded times itself: any write by the second ingest replaces them with the
  # clock's, however little time has passed.
  cluster_sql "UPDATE node_component_version SET updated_ms = 1, reported_ms = 1"
  cluster_sql "UPDATE node_version_report SET reported_ms = 1"
  tac "$TMP/r" | cube-versions ingest --node n1 -o json >"$TMP/out"
  [ "$(jq -r .changed "$TMP/out")" = false ]
  [ "$(cluster_sql "SELECT DISTINCT updated_ms || ',' || reported_ms FROM node_component_version")" = 1,1 ]
  [ "$(cluster_sql "SELECT reported_ms FROM node_version_report")" = 1 ]
}

@test "ingest: components no longer reported are hard-deleted" {
  cube-versions collect --base "$BASE" -o jsonl | cube-versions ingest --node n1 >/dev/null
  cube-versions collect --base "$BASE" -o jsonl | grep -v cube-egress | cube-versions ingest --node n1 -o json >"$TMP/out"
  [ "$(jq -r .deleted "$TMP/out")" = 1 ]
  [ "$(rows "WHERE component='cube-egress'")" -eq 0 ]
  [ "$(rows "WHERE node_id='n1'")" -eq 4 ]
}

@test "ingest: malformed JSON Lines exit 2, name the line, and write nothing" {
  printf '{"component":"a","version":"1"}\n\n{"component":"b",\n' >"$TMP/bad"
  run --separate-stderr cube-versions ingest --node n1 <"$TMP/bad"
  assert_failure 2
  [[ "$stderr" == "cube-versions: error: report line 3 is invalid (not valid JSON;"* ]]
  printf '{"component":"a","version":"1"}\n{"component":"a","version":"2"}\n' >"$TMP/bad"
  run --separate-stderr cube-versions ingest --node n1 <"$TMP/bad"
  assert_failure 2
  [[ "$stderr" == *"line 2"*"appears twice"* ]]
  printf '{"component":"a","version":7}\n' | { run --separate-stderr cube-versions ingest --node n1; assert_failure 2; }
  printf '{"component":"a","version":"1","source":"guess"}\n' | { run --separate-stderr cube-versions ingest --node n1; assert_failure 2; }
  printf '{"version":"1"}\n' | { run --separate-stderr cube-versions ingest --node n1; assert_failure 2; }
  printf '{"component":"%0200d","version":"1"}\n' 0 | { run --separate-stderr cube-versions ingest --node n1; assert_failure 2; }
  no_rows
}

@test "ingest and collect: path-unsafe node IDs exit 2 and write nothing" {
  for id in ../x a/b '.' 'a b' "$(printf 'x%.0s' {1..129})" ''; do
    run --separate-stderr cube-versions ingest --node "$id" <<<'{"component":"a","version":"1"}'
    assert_failure 2
    # An empty value is refused for every option alike, before the node ID's own rule.
    want="invalid node ID"
    [ -n "$id" ] || want="--node: an empty value is not allowed"
    [[ "$stderr" == "cube-versions: error: $want"* ]]
    run --separate-stderr cube-versions collect --base "$BASE" --node "$id" --report
    assert_failure 2
  done
  no_rows
}

@test "matrix: the JSON shape with skew, declared flags and sorted node lists" {
  report n2 1.4.0 >/dev/null
  report n1 1.4.0 >/dev/null
  report n3 1.3.9 >/dev/null
  run cube-versions matrix --base "$BASE" -o json
  assert_success
  [ "$(jq -r '[keys[]]|join(",")' <<<"$output")" = "components,control_plane,nodes" ]
  g='.components[]|select(.component=="guest-image")'
  [ "$(jq -r "$g|.consistent" <<<"$output")" = false ]
  [ "$(jq -r "$g|.declared_version" <<<"$output")" = 1.4.0 ]
  [ "$(jq -c "$g|[.versions[]|[.version,.declared,.nodes]]" <<<"$output")" = '[["1.3.9",false,["n3"]],["1.4.0",true,["n1","n2"]]]' ]
  [ "$(jq -r '.components[]|select(.component=="kernel")|.consistent' <<<"$output")" = true ]
  [ "$(jq -r '[.nodes[].node_id]|join(",")' <<<"$output")" = n1,n2,n3 ]
  [ "$(jq -r '.nodes[2].components[]|select(.component=="guest-image")|.declared' <<<"$output")" = false ]
  [ "$(jq -r '.nodes[0].healthy' <<<"$output")" = null ]
  [ "$(jq -r '.control_plane.version' <<<"$output")" = "$(cube-versions --version -o json | jq -r .version)" ]
}

@test "matrix --check: exit 5 naming every skewed component and undeclared version" {
  report n1 1.4.0 >/dev/null
  report n2 1.4.0 >/dev/null
  run --separate-stderr cube-versions matrix --base "$BASE" --check
  assert_success
  report n3 1.3.9 >/dev/null
  run --separate-stderr cube-versions matrix --base "$BASE" --check
  assert_failure 5
  [[ "$stderr" == *"guest-image is skewed: 1.3.9 on n3; 1.4.0 on n1,n2"* ]]
  [[ "$stderr" == *"guest-image 1.3.9 is not declared by the release (declared: 1.4.0), on n3"* ]]
  [[ "$stderr" == *"cube-versions: error: version check failed (2 problems)" ]]
  assert_output --partial "guest-image"
  # --node narrows the check to what involves that node
  run --separate-stderr cube-versions matrix --base "$BASE" --check --node n1 --component kernel
  assert_success
}

@test "matrix: undeclared but consistent still fails --check" {
  report n1 1.3.9 >/dev/null
  run --separate-stderr cube-versions matrix --base "$BASE" --check --component guest-image
  assert_failure 5
  [[ "$stderr" == *"guest-image 1.3.9 is not declared"* ]]
  [[ "$stderr" != *"skewed"* ]]
}

@test "matrix: --component and --node filter; unknown ones exit 3" {
  report n1 1.4.0 >/dev/null
  report n2 1.3.9 >/dev/null
  run cube-versions matrix --base "$BASE" --component guest-image --node n2 -o json
  assert_success
  [ "$(jq -r '[.components[].component]|join(",")' <<<"$output")" = guest-image ]
  [ "$(jq -r '[.nodes[].node_id]|join(",")' <<<"$output")" = n2 ]
  run --separate-stderr cube-versions matrix --base "$BASE" --node n9
  assert_failure 3
  [[ "$stderr" == "cube-versions: error: node 'n9' not found"* ]]
  run --separate-stderr cube-versions matrix --base "$BASE" --component nothing
  assert_failure 3
  run --separate-stderr cube-versions matrix --base "$BASE" --node ../n1
  assert_failure 2
}

@test "matrix: the per-node report texts and the per-component rows give the same matrix" {
  report n2 1.4.0 >/dev/null
  report n1 1.4.0 >/dev/null
  report n3 1.3.9 >/dev/null
  fast=$(cube-versions matrix --base "$BASE" -o json)
  [ "$(cluster_sql "SELECT count(*) FROM node_version_report WHERE report = ''")" -eq 0 ]
  # Texts missing (a file written before migration 4): the rows are read instead.
  cluster_sql "UPDATE node_version_report SET report = '' WHERE node_id = 'n2'"
  [ "$(cube-versions matrix --base "$BASE" -o json)" = "$fast" ]
  for f in "--component guest-image" "--node n3"; do
    cluster_sql "UPDATE node_version_report SET report = '' WHERE node_id = 'n2'"
    slow=$(cube-versions matrix --base "$BASE" -o json $f)
    report n2 1.4.1 >/dev/null && report n2 1.4.0 >/dev/null
    [ "$(cube-versions matrix --base "$BASE" -o json $f)" = "$slow" ]
  done
  # A row no report mentions is still shown.
  cluster_sql "INSERT INTO node_component_version (node_id, component, version) VALUES ('n9', 'kernel', 'x')"
  run cube-versions matrix --base "$BASE" -o json
  [ "$(jq -r '.components[]|select(.component=="kernel")|.versions[]|select(.version=="x")|.nodes[0]' <<<"$output")" = n9 ]
}

@test "matrix: long form for tsv and jsonl" {
  report n1 1.4.0 >/dev/null
  run cube-versions matrix --base "$BASE" -o tsv
  assert_success
  [ "${lines[0]}" = "$(printf 'node_id\thealthy\tcomponent\tversion\tdeclared\tconsistent')" ]
  [ "${#lines[@]}" -eq 6 ]
  run cube-versions matrix --base "$BASE" -o jsonl
  [ "$(jq -s 'length' <<<"$output")" -eq 5 ]
}

@test "matrix: a malformed named manifest is bad input; a missing default one is not" {
  report n1 1.4.0 >/dev/null
  echo '{"release_version": 5}' >"$TMP/bad.json"
  run --separate-stderr cube-versions matrix --manifest "$TMP/bad.json"
  assert_failure 2
  [[ "$stderr" == "cube-versions: error: malformed manifest $TMP/bad.json: release_version (expected a string)"* ]]
  echo '[1,2]' >"$TMP/bad.json"
  CUBE_RELEASE_MANIFEST="$TMP/bad.json" run --separate-stderr cube-versions matrix
  assert_failure 2
  run cube-versions matrix --base "$TMP/none" -o json
  assert_success
  [ "$(jq -r '.components[0].declared_versions|length' <<<"$output")" = 0 ]
}

@test "matrix: health comes from the node registry through the shared rule" {
  report n1 1.4.0 >/dev/null
  report n2 1.4.0 >/dev/null
  report n3 1.4.0 >/dev/null
  now=$(($(date +%s%3N)))
  cluster_sql "INSERT INTO nodes (id) VALUES ('n1'), ('n2'), ('n4')"
  cluster_sql "INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready) VALUES ('n1', $now, 1), ('n2', $((now - 60000)), 1), ('n4', $now, 0)"
  run cube-versions matrix --base "$BASE" -o json
  [ "$(jq -c '[.nodes[]|[.node_id,.healthy,.health_reason]]' <<<"$output")" = \
    '[["n1",true,""],["n2",false,"HeartbeatExpired"],["n3",null,"NotRegistered"],["n4",false,"ReportedNotReady"]]' ]
}

@test "ingest: 32 processes reporting at once lose nothing" {
  cube-versions collect --base "$BASE" -o jsonl >"$TMP/r"
  pids=()
  for i in $(seq 1 32); do
    cube-versions ingest --node "node$i" <"$TMP/r" >"$TMP/out.$i" 2>"$TMP/err.$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  cat "$TMP"/err.* >"$TMP/errs"
  [ ! -s "$TMP/errs" ] || { cat "$TMP/errs"; false; }
  [ "$(rows "")" -eq 160 ]
  [ "$(cluster_sql "SELECT count(DISTINCT node_id) FROM node_component_version")" -eq 32 ]
  [ "$(cluster_sql "SELECT count(*) FROM node_version_report")" -eq 32 ]
  on_pg || [ "$(sqlite3 "$CUBE_STATE" "PRAGMA journal_mode")" = wal ]
}

@test "config: effective settings with their source" {
  printf '[versions]\nbase = "/srv/base"\nbogus = 1\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-versions config -o json
  assert_success
  [ "$(jq -r '.[]|select(.key=="versions.base")|.value+" "+.source' <<<"$output")" = "/srv/base config" ]
  [ "$(jq -r '.[]|select(.key=="versions.report_interval")|.value+" "+.source' <<<"$output")" = "10s default" ]
  [ "$(jq -r '.[]|select(.key=="state.cluster")|.value' <<<"$output")" = "${CUBE_CLUSTER_URL:-}" ]
  [ "$(grep -c "unknown key 'versions.bogus'" <<<"$stderr")" -eq 1 ]
  run --separate-stderr cube-versions collect --base "$BASE" --node flagged -o json
  [ "$(grep -c bogus <<<"$stderr")" -eq 1 ]
  printf '[versions]\nbase = 5\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-versions config
  assert_failure 2
  [[ "$stderr" == *"[versions] base has the wrong type"* ]]
}

@test "collect --report --jitter waits and still reports" {
  run cube-versions collect --base "$BASE" --node j1 --report --jitter --interval 50ms -o json
  assert_success
  [ "$(jq -r .changed <<<"$output")" = true ]
  run --separate-stderr cube-versions collect --report --jitter --interval 10
  assert_failure 2
  [[ "$stderr" == *"invalid versions.report_interval '10'"* ]]
}

@test "systemd units: the collect timer runs collect --report every 10s" {
  grep -q '^ExecStart=.*cube-versions collect --report' "$CUBE_ROOT/scripts/systemd/cube-versions-collect.service"
  grep -q '^OnUnitActiveSec=10s' "$CUBE_ROOT/scripts/systemd/cube-versions-collect.timer"
  if command -v systemd-analyze >/dev/null; then
    # The unit names /usr/local/bin/cube-versions, which need not be installed here: only that
    # complaint is allowed.
    run systemd-analyze verify --man=no "$CUBE_ROOT"/scripts/systemd/cube-versions-collect.{service,timer}
    [ -z "$(grep -v 'cube-versions.*\(not executable\|No such file\|is not\)' <<<"$output" | grep -v '^$')" ] || fail "$output"
  fi
}

@test "manifest: a FIFO, a device or a directory as an image to digest is refused at once" {
  mkfifo "$TMP/fifo"
  mkdir "$TMP/dir"
  for args in "--no-kernel --guest-image $TMP/fifo" "--vmlinux $TMP/vmlinux --guest-image $TMP/fifo" \
    "--vmlinux /dev/zero" "--vmlinux $TMP/vmlinux --vmlinux-pvm $TMP/fifo" "--vmlinux $TMP/dir" \
    "--vmlinux $TMP/vmlinux --guest-image-version-file $TMP/fifo"; do
    # shellcheck disable=SC2086
    run --separate-stderr timeout 20 cube-versions manifest $args
    assert_failure 2
    [[ "$stderr" == *"not a regular file"* ]]
  done
  # A missing one is not found.
  run --separate-stderr timeout 20 cube-versions manifest --vmlinux "$TMP/nope"
  assert_failure 3
}

@test "collect: a FIFO where a version file or a binary should be does not hang" {
  rm "$BASE/cube-egress/version"
  mkfifo "$BASE/cube-egress/version"
  run --separate-stderr timeout 20 cube-versions collect --base "$BASE" --node n1 -o json
  [ "$status" -ne 124 ]
}

@test "--cluster: a postgresql:// URL only, before \$CUBE_CLUSTER_URL, never printed with its password; cube-rootfs too" {
  cube-versions --help | grep -q -- '--cluster URL'
  cube-rootfs --help | grep -q -- '--cluster URL'
  run --separate-stderr cube-versions --cluster 'mysql://cube:s3cret@db/cube' matrix
  assert_failure 2
  [[ "$stderr" == *"cluster URL 'mysql://cube:***@db/cube' is not a PostgreSQL URL"* ]]
  [[ "$stderr" != *s3cret* ]]
  run --separate-stderr cube-versions node forget n1 --cluster ''
  assert_failure 2
  # No server there: exit 1 naming the socket directory, not the password; the flag beats the
  # variable, which alone would be exit 2. Nothing was recorded anywhere.
  CUBE_CLUSTER_URL='mysql://x' run --separate-stderr cube-versions ingest --node n1 \
    --cluster "postgresql://cube:s3cret@/cube?host=$TMP/no-server" <<<'{"component":"a","version":"1"}'
  assert_failure 1
  [[ "$stderr" == *"$TMP/no-server"* ]]
  [[ "$stderr" != *s3cret* ]]
  no_rows
  run --separate-stderr cube-rootfs distribute "tpl-$(printf '0%.0s' {1..24})" --cluster 'mysql://cube:s3cret@db/cube'
  assert_failure 2
  [[ "$stderr" == *"mysql://cube:***@db/cube"* ]]
  [[ "$stderr" != *s3cret* ]]
}
