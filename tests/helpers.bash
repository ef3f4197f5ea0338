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
