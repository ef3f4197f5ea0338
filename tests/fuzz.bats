#!/usr/bin/env bats
# The libFuzzer targets (tests/fuzz/*.cpp, built by `make check` with clang, ASan and UBSan) run
# over their committed corpora for a bounded number of inputs: a crash, a leak, undefined behaviour
# or a hang fails the test. `make fuzz FUZZ_SECONDS=N` fuzzes each target for N seconds.

load helpers

setup() {
  cube_setup
}

teardown() {
  cube_teardown
}

run_target() {
  local bin="$CUBE_BUILD/fuzz/$1"
  [ -x "$bin" ] || skip "needs clang's libFuzzer runtime (Debian package libclang-rt-14-dev)"
  mkdir -p "$TMP/new"
  # The corpus only (-runs=0): a regression run must not fail on a finding of its own mutations;
  # `make fuzz` is where new inputs are searched for. A crash input is written to $TMP, not here.
  run "$bin" -runs=0 -max_len=4096 -timeout=10 -artifact_prefix="$TMP/" "$TMP/new" "$CUBE_ROOT/tests/fuzz/corpus/$1"
  [ "$status" -eq 0 ] || { echo "$output" | tail -40; false; }
}

@test "fuzz: the DNS message parser" {
  run_target dns_message
}

@test "fuzz: the policy JSON parser and compiler" {
  run_target egress_policy
}

@test "fuzz: the target parsers (allowOut, denyOut, sni, host)" {
  run_target egress_target
}

@test "fuzz: cube-logs' CRI parser and the reader's scans (tail, head, time, order)" {
  run_target logs_scan
}

@test "fuzz: cube-logs' socket framing and record framer" {
  run_target logs_framing
}

@test "fuzz: cube-versions ingest's JSON Lines" {
  run_target versions_ingest
}

@test "fuzz: cube-sched's selector and quantity parsers" {
  run_target sched_selector
}

@test "fuzz: the duration, size, number and time parsers and message escaping" {
  run_target units
}

@test "fuzz: the TOML config and its getters" {
  run_target config
}

@test "fuzz: a layer into a temporary ext4 image and back (cube-rootfs)" {
  run_target rootfs_layer
}

@test "fuzz: an OCI layout's index, manifest and config JSON (cube-rootfs)" {
  run_target oci_layout
}

@test "fuzz: the ext4 reader behind inspect, over corrupted images (cube-rootfs)" {
  run_target ext4_image
}

@test "fuzz: the TLS ClientHello reader (every prefix, as the proxy's peeks see it)" {
  run_target client_hello
}

@test "fuzz: the proxy's HTTP request head parser and header redactor" {
  run_target http_head
}

@test "every fuzz target has a corpus and a line in tests/fuzz/build.mk" {
  for src in "$CUBE_ROOT"/tests/fuzz/*.cpp; do
    t=$(basename "$src" .cpp)
    [ -n "$(ls "$CUBE_ROOT/tests/fuzz/corpus/$t")" ] || { echo "no corpus for $t"; false; }
    grep -q "^FUZZ_SRC_$t " "$CUBE_ROOT/tests/fuzz/build.mk" || { echo "no sources for $t"; false; }
  done
}
