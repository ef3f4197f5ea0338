bats_require_minimum_version 1.5.0
# Shared set-up for the bats files: the built tools on PATH, bats-assert, a private temp dir and
# state file per test, and skip helpers for capabilities a test needs.
bats_load_library bats-support
bats_load_library bats-assert

CUBE_ROOT="$(cd "$(dirname "${BATS_TEST_FILENAME}")/.." && pwd)"
# The build under test: build/ by default, build/san for `make check SAN=1` (the Makefile says which).
CUBE_BUILD="${CUBE_BUILD:-$CUBE_ROOT/build}"
export PATH="$CUBE_BUILD/bin:$PATH"

# make in the repository, for the build under test (SAN=1 when `make check SAN=1` runs the tests).
cube_make() {
  make -C "$CUBE_ROOT" --no-print-directory ${CUBE_MAKE_SAN:+SAN=$CUBE_MAKE_SAN} "$@"
}

cube_setup() {
  TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/cube-test.XXXXXX")"
  export CUBE_STATE="$TMP/state.db"
  export CUBE_CONFIG="$TMP/none.toml"  # named but absent would fail: point at an empty file
  : >"$CUBE_CONFIG"
  export NO_COLOR=1
}

cube_teardown() {
  [ -n "${TMP:-}" ] && rm -rf "$TMP"
}

require_root() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN / CAP_SYS_ADMIN)"
}

require_command() {
  command -v "$1" >/dev/null 2>&1 || skip "needs $1"
}

# world_cert NAME...: a test CA, $TMP/world-ca.{crt,key} (made once), and $TMP/server.{crt,key} for
# the names, the first as CN: what an HTTPS server in a test's "world" namespace presents.
world_cert() {
  [ -f "$TMP/world-ca.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMP/world-ca.key" -out "$TMP/world-ca.crt" -subj /CN=world-test-ca -days 2 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/server.key" \
    -out "$TMP/server.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\n' "$(printf 'DNS:%s,' "$@" | sed 's/,$//')" >"$TMP/san"
  openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/world-ca.crt" -CAkey "$TMP/world-ca.key" -CAcreateserial \
    -out "$TMP/server.crt" -days 2 -extfile "$TMP/san" 2>/dev/null
}

# wait_listen NS PORT: waits up to 5 s for a TCP listener on PORT in namespace NS.
wait_listen() {
  for _ in $(seq 100); do
    [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
    sleep 0.05
  done
  return 1
}

# poll_until SECONDS CMD...: a bounded poll, every 50 ms until CMD succeeds; past SECONDS the test
# fails (a deadline for a hang, never a timing assertion).
poll_until() {
  local limit=$1 deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "gave up after ${limit}s waiting for: $*"
    sleep 0.05
  done
}
