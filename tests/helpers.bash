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
  batch_stop 2>/dev/null || true
  [ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# batch_start CMD...: runs CMD (a --batch verb) in the background, its stdin a FIFO this shell holds
# open on fd 7, its stdout in $TMP/batch.out and stderr in $TMP/batch.err; BATCH_PID is its PID.
# batch_ask LINE sends one request and sets BATCH_REPLY to its answer; batch_stop closes stdin and
# sets BATCH_STATUS to the exit status. A process started meanwhile that outlives its command (a
# server) inherits fd 7 and would keep the batch from ever seeing the end of its input: start it
# with 7>&-.
batch_start() {
  mkfifo "$TMP/batch.in"
  "$@" <"$TMP/batch.in" >"$TMP/batch.out" 2>"$TMP/batch.err" &
  BATCH_PID=$!
  exec 7>"$TMP/batch.in"
}
batch_ask() {
  local want=$(($(wc -l <"$TMP/batch.out") + 1))
  printf '%s\n' "$1" >&7
  poll_until 30 batch_answered "$want"
  BATCH_REPLY=$(sed -n "${want}p" "$TMP/batch.out")
}
batch_answered() {
  [ "$(wc -l <"$TMP/batch.out")" -ge "$1" ] && return 0
  kill -0 "$BATCH_PID" 2>/dev/null || fail "the batch process is gone: $(cat "$TMP/batch.err")"
  return 1
}
batch_stop() {
  [ -n "${BATCH_PID:-}" ] || return 0
  local pid=$BATCH_PID deadline=$((SECONDS + 30))
  BATCH_PID=
  exec 7>&-
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -9 "$pid"
      fail "the batch process did not exit at the end of its input (does a child hold fd 7?)"
    fi
    sleep 0.05
  done
  BATCH_STATUS=0
  wait "$pid" || BATCH_STATUS=$?
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
