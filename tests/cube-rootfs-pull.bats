#!/usr/bin/env bats
# cube-rootfs build --pull against a real registry (Debian's docker-registry, the CNCF distribution
# registry) on 127.0.0.1 with its own config and storage: plain HTTP, then TLS with a throwaway
# self-signed certificate and htpasswd credentials. Images are pushed there with skopeo.
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
  require_command skopeo
  require_command sqlite3
  command -v docker-registry >/dev/null || skip "needs docker-registry (Debian package docker-registry)"
  STORE="$TMP/store"
  LISTING="$CUBE_ROOT/tests/fixtures/tree-listing"
}
teardown() {
  [ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null || true
  if [ -n "${REG_PID:-}" ]; then
    kill "$REG_PID" 2>/dev/null || true
    wait "$REG_PID" 2>/dev/null || true
  fi
  cube_teardown
}

q() { sqlite3 "$CUBE_STATE" "$1"; }

# Starts a registry on a free loopback port ($PORT): plain HTTP, or with `tls` TLS with $TMP/tls.*
# and htpasswd auth from $TMP/htpasswd.
start_registry() {
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$TMP/registry"
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$TMP/registry/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$PORT"
    if [ "${1:-}" = tls ]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' "$TMP/tls.crt" "$TMP/tls.key"
      printf 'auth:\n  htpasswd:\n    realm: cube-test\n    path: %s\n' "$TMP/htpasswd"
    fi
  } >"$TMP/registry/config.yml"
  docker-registry serve "$TMP/registry/config.yml" >"$TMP/registry/log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$TMP/registry/log" >&2
  return 1
}

# The tree and fingerprints of artifact $2 in store $1, for comparing two builds.
artifact_listing() {
  cube-rootfs inspect --content -o tsv "$1/$2/$2.ext4" >"$TMP/inspect.tsv"
  "$LISTING" inspect "$TMP/inspect.tsv"
}

@test "--pull from a plain-HTTP registry builds the artifact the local layout builds" {
  start_registry
  skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci:rules" "docker://127.0.0.1:$PORT/cube/rules:v1"
  run cube-rootfs build "oci:$FIX/oci:rules" --store "$TMP/local" -o json
  assert_success
  local_art=$(jq -r .artifact_id <<<"$output")
  # skopeo speaks HTTPS unless told: the error names the pull and says what to add.
  run --separate-stderr cube-rootfs build --pull "127.0.0.1:$PORT/cube/rules:v1" --store "$STORE"
  assert_failure 1
  [[ "$stderr" == *"pulling 127.0.0.1:$PORT/cube/rules:v1 failed (skopeo: "*"add --no-tls-verify"* ]]
  run --separate-stderr cube-rootfs build --pull "docker://127.0.0.1:$PORT/cube/rules:v1" --no-tls-verify \
    --store "$STORE" -o json
  assert_success
  [ "$(jq -r .status <<<"$output")" = READY ]
  [ "$(jq -r .image <<<"$output")" = "127.0.0.1:$PORT/cube/rules:v1" ]
  tpl=$(jq -r .template_id <<<"$output")
  art=$(jq -r .artifact_id <<<"$output")
  # The same manifest digest and request give the same spec fingerprint, so the same artifact ID.
  [ "$art" = "$local_art" ]
  [ "$(jq -r .source_digest <<<"$output")" = "$(q "SELECT source_image_digest FROM artifacts WHERE artifact_id = '$art'")" ]
  e2fsck -fn "$STORE/$art/$art.ext4"
  diff "$TMP/local/$art/$art.files.jsonl" "$STORE/$art/$art.files.jsonl"
  diff <(artifact_listing "$TMP/local" "$art") <(artifact_listing "$STORE" "$art")
  [ "$(q "SELECT json_extract(request_json, '$.tls_verify') FROM templates WHERE template_id = '$tpl'")" = 0 ]
  # The pulled layout is gone once the template is READY.
  [ -z "$(ls -A "$STORE/.incoming")" ]
}

@test "--pull: redo after a kill in PULLING pulls again with the stored --no-tls-verify" {
  start_registry
  skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci-zstd:rules" "docker://127.0.0.1:$PORT/cube/zstd:v1"
  CUBE_ROOTFS_PAUSE_AT=PULLING cube-rootfs build --pull "127.0.0.1:$PORT/cube/zstd:v1" --no-tls-verify \
    --store "$STORE" >/dev/null 2>&1 &
  BG=$!
  for _ in $(seq 200); do
    tpl=$(q "SELECT template_id FROM templates" 2>/dev/null || true)
    [ -n "$tpl" ] && [ "$(q "SELECT phase FROM jobs WHERE template_id = '$tpl'")" = PULLING ] && break
    sleep 0.1
  done
  kill -9 "$BG"
  wait "$BG" 2>/dev/null || true
  BG=
  run --separate-stderr cube-rootfs redo "$tpl" -o json
  assert_success
  [ "$(jq -r .status <<<"$output")" = READY ]
  art=$(jq -r .artifact_id <<<"$output")
  e2fsck -fn "$STORE/$art/$art.ext4"
  [ "$(q "SELECT resume_phase FROM jobs WHERE template_id = '$tpl' AND attempt_no = 2")" = PULLING ]
}

@test "--pull over TLS with --cert-dir and --registry-auth: wrong password, right one, no secret kept" {
  require_command openssl
  require_command htpasswd
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/tls.key" \
    -out "$TMP/tls.crt" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null
  mkdir "$TMP/certs"
  cp "$TMP/tls.crt" "$TMP/certs/registry-ca.crt"
  htpasswd -Bbn alice right-pw-7f3a >"$TMP/htpasswd"
  start_registry tls
  ref="127.0.0.1:$PORT/cube/rules:v1"
  skopeo copy -q --dest-cert-dir "$TMP/certs" --dest-creds alice:right-pw-7f3a "oci:$FIX/oci:rules" "docker://$ref"
  # A skopeo in front of the real one records how the auth file it is handed looks.
  mkdir "$TMP/bin"
  cat >"$TMP/bin/skopeo" <<EOF
#!/bin/sh
for a; do case \$a in --src-authfile=*) f=\${a#*=}; echo "\$f \$(stat -c %a "\$f")" >>"$TMP/authfiles" ;; esac; done
exec $(command -v skopeo) "\$@"
EOF
  chmod +x "$TMP/bin/skopeo"
  printf 'alice:wrong-pw-91c2\n' >"$TMP/bad.auth"
  printf 'alice:right-pw-7f3a\n' >"$TMP/good.auth"

  run --separate-stderr env PATH="$TMP/bin:$PATH" cube-rootfs build --pull "$ref" --cert-dir "$TMP/certs" \
    --registry-auth "$TMP/bad.auth" --store "$STORE"
  assert_failure 1
  [[ "$stderr" == *"pulling $ref failed (skopeo: "*"unauthorized"*"check the USER:PASSWORD in --registry-auth"* ]]
  [ -z "$(find "$STORE/.incoming" -name '*auth*')" ]

  # Without the CA the certificate is not trusted, and the error says how to trust it.
  run --separate-stderr cube-rootfs build --pull "$ref" --registry-auth "$TMP/good.auth" --store "$STORE"
  assert_failure 1
  [[ "$stderr" == *"--cert-dir"* ]]

  run --separate-stderr env PATH="$TMP/bin:$PATH" cube-rootfs build --pull "$ref" --cert-dir "$TMP/certs" \
    --registry-auth "$TMP/good.auth" --store "$STORE" -o json
  assert_success
  tpl=$(jq -r .template_id <<<"$output")
  art=$(jq -r .artifact_id <<<"$output")
  e2fsck -fn "$STORE/$art/$art.ext4"
  # Both pulls were handed a 0600 auth file under the store's .incoming/, and both are gone.
  [ "$(wc -l <"$TMP/authfiles")" = 2 ]
  while read -r f mode; do
    [[ "$f" == "$STORE/.incoming/"* ]] && [ "$mode" = 600 ] && [ ! -e "$f" ]
  done <"$TMP/authfiles"
  [ -z "$(find "$STORE" -name '*auth*')" ]
  # The user is kept for a redo; the password nowhere: not in the state file, not in show.
  [ "$(q "SELECT json_extract(request_json, '$.registry_user') FROM templates WHERE template_id = '$tpl'")" = alice ]
  [ "$(q "SELECT json_extract(request_json, '$.cert_dir') FROM templates WHERE template_id = '$tpl'")" = "$TMP/certs" ]
  ! sqlite3 "$CUBE_STATE" .dump | grep -q -e right-pw -e wrong-pw
  ! grep -a -q -e right-pw -e wrong-pw "$CUBE_STATE"
  run cube-rootfs show "$tpl" -o json
  assert_success
  refute_output --partial right-pw
}
