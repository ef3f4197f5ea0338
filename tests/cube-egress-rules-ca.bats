#!/usr/bin/env bats
# cube-egress-rules ca: the cluster CA created, described, exported and imported through the real
# binary, with openssl as the independent reader; the private key never reaches a terminal, a
# file others can read, or any output but an explicit export.
load helpers

setup() {
  cube_setup
  require_command openssl
  CA="$TMP/ca"
}
teardown() { cube_teardown; }

# A second node: its own config file, so its own CA directory.
node2() { CUBE_CONFIG="$TMP/n2/cube.toml" cube-egress-rules "$@"; }

@test "ca init: an EC P-256 CA beside the config, key 0600, cert 0644; a second init is a conflict" {
  run --separate-stderr cube-egress-rules ca init -o json
  assert_success
  [ "$(jq -r .outcome <<<"$output")" = created ]
  [ "$(stat -c %a "$CA/cube-root-ca.key")" = 600 ]
  [ "$(stat -c %a "$CA/cube-root-ca.crt")" = 644 ]
  [ "$(stat -c %a "$CA")" = 755 ]
  [ "$(jq -r .cert <<<"$output")" = "$CA/cube-root-ca.crt" ]
  [ "$(jq -r .key <<<"$output")" = "$CA/cube-root-ca.key" ]
  fp=$(openssl x509 -in "$CA/cube-root-ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
  [ "$(jq -r .fingerprint_sha256 <<<"$output")" = "$fp" ]
  [ "$(jq -r .pem_sha256 <<<"$output")" = "$(sha256sum "$CA/cube-root-ca.crt" | cut -d' ' -f1)" ]
  [ "$(jq -r .days_left <<<"$output")" -ge 3649 ]
  openssl x509 -in "$CA/cube-root-ca.crt" -noout -text >"$TMP/text"
  grep -q "CA:TRUE, pathlen:0" "$TMP/text"
  grep -q "Certificate Sign, CRL Sign" "$TMP/text"
  grep -q "ASN1 OID: prime256v1" "$TMP/text"
  grep -q "ecdsa-with-SHA256" "$TMP/text"
  openssl verify -CAfile "$CA/cube-root-ca.crt" "$CA/cube-root-ca.crt"
  openssl pkey -in "$CA/cube-root-ca.key" -noout
  # The key is the cert's key.
  [ "$(openssl pkey -in "$CA/cube-root-ca.key" -pubout)" = "$(openssl x509 -in "$CA/cube-root-ca.crt" -noout -pubkey)" ]
  cp "$CA/cube-root-ca.crt" "$TMP/first.crt"
  run --separate-stderr cube-egress-rules ca init
  assert_failure 4
  [[ "$stderr" == *"already installed"* ]]
  cmp "$CA/cube-root-ca.crt" "$TMP/first.crt"
}

@test "ca show, ca path: the record, a warning under 30 days, exit 3 without a CA" {
  run --separate-stderr cube-egress-rules ca show
  assert_failure 3
  [[ "$stderr" == *"no cluster CA at $CA/cube-root-ca.crt"* ]]
  run cube-egress-rules ca path
  assert_success
  [ "$output" = "$CA/cube-root-ca.crt" ]
  [ "$(cube-egress-rules ca path -o json | jq -r .installed)" = false ]
  cube-egress-rules ca init --days 10 -q >/dev/null
  run --separate-stderr cube-egress-rules ca show -o json
  assert_success
  [ "$(jq -r .subject <<<"$output")" = "CN=cube egress root CA,O=cube" ]
  [ "$(jq -r .days_left <<<"$output")" = 9 ]
  [[ "$stderr" == *"warning: the cluster CA expires in 9 days"* ]]
  [ "$(jq -r .not_after <<<"$output")" = "$(date -u -d "$(openssl x509 -in "$CA/cube-root-ca.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" ]
  run --separate-stderr cube-egress-rules ca show -o tsv
  [ "$(head -1 <<<"$output")" = "$(printf 'subject\tfingerprint_sha256\tpem_sha256\tnot_before\tnot_after\tdays_left\tcert\tkey')" ]
  [ "$(cube-egress-rules ca path -o json | jq -r .installed)" = true ]
  run cube-egress-rules ca init --days 0
  assert_failure 2
  run cube-egress-rules ca init --days 36501
  assert_failure 2
}

@test "ca export: the cert alone; with --with-key only to a pipe or a 0600 file, never a terminal" {
  cube-egress-rules ca init -q >/dev/null
  run --separate-stderr cube-egress-rules ca export
  assert_success
  cmp <(printf '%s\n' "$output") "$CA/cube-root-ca.crt"
  # To a pipe: cert then key.
  cube-egress-rules ca export --with-key | openssl pkey -noout
  [ "$(cube-egress-rules ca export --with-key | grep -c -- '-----BEGIN')" = 2 ]
  # A file others may read is refused, and nothing is written into it.
  : >"$TMP/open.pem"
  chmod 644 "$TMP/open.pem"
  run --separate-stderr bash -c 'cube-egress-rules ca export --with-key >"$1"' _ "$TMP/open.pem"
  assert_failure 2
  [[ "$stderr" == *"other users may read (mode 0644)"* ]]
  [ ! -s "$TMP/open.pem" ]
  # A 0600 file is fine.
  (umask 077 && cube-egress-rules ca export --with-key >"$TMP/ca.pem")
  grep -q -- "-----BEGIN PRIVATE KEY-----" "$TMP/ca.pem"
  # A terminal is refused (script(1) gives the command a pseudo-terminal).
  require_command script
  run script -qec "cube-egress-rules ca export --with-key" /dev/null
  assert_failure 2
  [[ "$output" == *"stdout is a terminal"* ]]
  [[ "$output" != *"PRIVATE KEY"* ]]
  # A key file opened to others is never used.
  chmod 640 "$CA/cube-root-ca.key"
  run --separate-stderr bash -c 'cube-egress-rules ca export --with-key | cat'
  [[ "$stderr" == *"is open to other users (mode 0640"* ]]
  [[ "$output" != *"PRIVATE KEY"* ]]
}

@test "ca import: another node gets the same CA; a different one only with --replace; bad input leaves it as it was" {
  mkdir -p "$TMP/n2"
  : >"$TMP/n2/cube.toml"
  cube-egress-rules ca init -q >/dev/null
  run --separate-stderr bash -c 'cube-egress-rules ca export --with-key | CUBE_CONFIG="$1" cube-egress-rules ca import -o json' _ "$TMP/n2/cube.toml"
  assert_success
  [ "$(jq -r .outcome <<<"$output")" = created ]
  cmp "$CA/cube-root-ca.crt" "$TMP/n2/ca/cube-root-ca.crt"
  [ "$(stat -c %a "$TMP/n2/ca/cube-root-ca.key")" = 600 ]
  [ "$(stat -c %a "$TMP/n2/ca/cube-root-ca.crt")" = 644 ]
  [ "$(node2 ca show -o json | jq -r .fingerprint_sha256)" = "$(cube-egress-rules ca show -o json | jq -r .fingerprint_sha256)" ]
  (umask 077 && cube-egress-rules ca export --with-key >"$TMP/one.pem")
  [ "$(node2 ca import --file "$TMP/one.pem" -o json | jq -r .outcome)" = unchanged ]
  # A different CA: refused, then replaced on request.
  mkdir -p "$TMP/n3"
  : >"$TMP/n3/cube.toml"
  CUBE_CONFIG="$TMP/n3/cube.toml" cube-egress-rules ca init -q >/dev/null
  (umask 077 && CUBE_CONFIG="$TMP/n3/cube.toml" cube-egress-rules ca export --with-key >"$TMP/other.pem")
  run --separate-stderr node2 ca import --file "$TMP/other.pem"
  assert_failure 4
  [[ "$stderr" == *"a different CA is already installed"* ]]
  cmp "$CA/cube-root-ca.crt" "$TMP/n2/ca/cube-root-ca.crt"
  cp -p "$TMP/n2/ca/cube-root-ca.key" "$TMP/n2-key-before"
  # Bad input changes nothing: a key that is not the cert's, a cert without its key, a cert that
  # is not a CA, garbage.
  { sed -n '/BEGIN CERT/,/END CERT/p' "$TMP/one.pem"; sed -n '/BEGIN PRIV/,/END PRIV/p' "$TMP/other.pem"; } >"$TMP/mixed.pem"
  run --separate-stderr node2 ca import --file "$TMP/mixed.pem" --replace
  assert_failure 2
  [[ "$stderr" == *"the private key does not belong to the certificate"* ]]
  run --separate-stderr node2 ca import --file "$CA/cube-root-ca.crt" --replace
  assert_failure 2
  [[ "$stderr" == *"no private key"* ]]
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/leaf.key" -out "$TMP/leaf.crt" \
    -subj /CN=leaf -days 2 -addext basicConstraints=critical,CA:FALSE 2>/dev/null
  cat "$TMP/leaf.crt" "$TMP/leaf.key" >"$TMP/leaf.pem"
  run --separate-stderr node2 ca import --file "$TMP/leaf.pem" --replace
  assert_failure 2
  [[ "$stderr" == *"not a CA"* ]]
  run --separate-stderr bash -c 'echo garbage | CUBE_CONFIG="$1" cube-egress-rules ca import --replace' _ "$TMP/n2/cube.toml"
  assert_failure 2
  cat "$TMP/one.pem" "$TMP/one.pem" >"$TMP/two.pem"
  run --separate-stderr node2 ca import --file "$TMP/two.pem" --replace
  assert_failure 2
  [[ "$stderr" == *"more than one"* ]]
  cmp "$CA/cube-root-ca.crt" "$TMP/n2/ca/cube-root-ca.crt"
  cmp "$TMP/n2-key-before" "$TMP/n2/ca/cube-root-ca.key"
  run --separate-stderr node2 ca import --file "$TMP/other.pem" --replace -o json
  assert_success
  [ "$(jq -r .outcome <<<"$output")" = replaced ]
  cmp "$TMP/n3/ca/cube-root-ca.crt" "$TMP/n2/ca/cube-root-ca.crt"
  cmp "$TMP/n3/ca/cube-root-ca.key" "$TMP/n2/ca/cube-root-ca.key"
  # openssl's own traditional EC key form is read too.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/o.key" -out "$TMP/o.crt" \
    -subj /CN=operator-ca -days 30 2>/dev/null
  openssl ec -in "$TMP/o.key" -out "$TMP/o-trad.key" 2>/dev/null
  grep -q "BEGIN EC PRIVATE KEY" "$TMP/o-trad.key"
  cat "$TMP/o-trad.key" "$TMP/o.crt" >"$TMP/o.pem"
  [ "$(node2 ca import --file "$TMP/o.pem" --replace -o json | jq -r .subject)" = CN=operator-ca ]
}

@test "the CA's private key appears in no output but export --with-key" {
  run --separate-stderr cube-egress-rules ca init -o json
  all="$output$stderr"
  body=$(sed -n '2p' "$CA/cube-root-ca.key")
  [ -n "$body" ]
  for verb in "ca show" "ca path" "ca export" "ca show -o json" "-v ca show" "--log-format json ca show"; do
    # shellcheck disable=SC2086
    run --separate-stderr cube-egress-rules $verb
    all+="$output$stderr"
  done
  mkdir -p "$TMP/n2"
  : >"$TMP/n2/cube.toml"
  run --separate-stderr bash -c 'cube-egress-rules ca export --with-key | CUBE_CONFIG="$1" cube-egress-rules -v ca import' _ "$TMP/n2/cube.toml"
  all+="$output$stderr"
  [[ "$all" != *"$body"* ]]
  [[ "$all" != *"PRIVATE KEY"* ]]
}
