#!/usr/bin/env bats
# The conventions every tool follows: help, version, usage errors, the error prefix, and docs and
# completions that agree with the code.
load helpers

setup() { cube_setup; }
teardown() { cube_teardown; }

tools() { sed -n 's/^TOOLS := //p' "$CUBE_ROOT/Makefile"; }

@test "every tool: --help exits 0 and writes only to stdout" {
  for t in $(tools); do
    run --separate-stderr "$t" --help
    assert_success
    assert_output --partial "Usage: $t"
    [ -z "$stderr" ]
  done
}

@test "every tool: every verb has --help" {
  for t in $(tools); do
    for v in $("$t" completion words | cut -f1 | sort -u | grep -v '^\.$'); do
      run --separate-stderr "$t" $v --help
      assert_success
      [ -z "$stderr" ]
    done
  done
}

@test "a lazily built verb has its options whichever way the command line reaches it" {
  # cube-logs adds forward's options only when the command line can run it (cli.hpp: lazy_verb).
  run --separate-stderr cube-logs forward --help
  assert_success
  assert_output --partial "--bundle"
  run --separate-stderr cube-logs completion words
  assert_output --partial "$(printf 'forward\t--bundle')"
  run --separate-stderr cube-logs -o json forward --bundle
  assert_failure 2
  [[ "$stderr" == *"--bundle"* ]]
  # A global option's value that is a verb's name is still the value.
  run --separate-stderr cube-logs --state forward --log-format text forward --bundle "$BATS_TEST_TMPDIR/b" \
    --stdout-fd 0 </dev/null
  assert_success
  [ -f "$BATS_TEST_TMPDIR/b/stdout" ]
  # Another verb's options are not this one's.
  run --separate-stderr cube-logs read sb --bundle x
  assert_failure 2
}

@test "every tool: --version prints one line in the house format" {
  for t in $(tools); do
    run --separate-stderr "$t" --version
    assert_success
    assert_output --regexp "^$t [^ ]+ \([^ ]+\) built at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
    [ -z "$stderr" ]
    run "$t" --version -o json
    assert_success
    [ "$(jq -r .name <<<"$output")" = "$t" ]
    [ "$(jq -r 'keys|join(",")' <<<"$output")" = "build_time,commit,name,version" ]
  done
}

@test "version stamp honours CUBE_RELEASE_*" {
  gen="$TMP/stamp.cpp"
  CUBE_RELEASE_VERSION=9.8.7 CUBE_RELEASE_COMMIT=abc123 CUBE_RELEASE_BUILD_TIME=2026-01-02T03:04:05Z \
    "$CUBE_ROOT/scripts/gen-stamp" "$gen"
  grep -q 'k_stamp_version\[\] = "9.8.7"' "$gen"
  grep -q 'k_stamp_commit\[\] = "abc123"' "$gen"
  grep -q 'k_stamp_build_time\[\] = "2026-01-02T03:04:05Z"' "$gen"
}

@test "every tool: an unknown option exits 2 with two lines on stderr" {
  for t in $(tools); do
    run --separate-stderr "$t" --no-such-option
    assert_failure 2
    [ -z "$output" ]
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ]
    [[ "$stderr" == "$t: error: "* ]]
    [[ "$stderr" == *"Try '$t --help' for more information."* ]]
  done
}

# cube-logs takes a first word that is not a verb as the sandbox to read (`cube-logs SANDBOX`, the
# upstream form): an unknown word is a sandbox whose log is missing, exit 3 with one line.
bare_word_status() { if [ "$1" = cube-logs ]; then echo 3; else echo 2; fi; }

@test "every tool: an unknown verb exits 2 with two lines on stderr" {
  for t in $(tools); do
    run --separate-stderr "$t" no-such-verb
    assert_failure "$(bare_word_status "$t")"
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq "$(($(bare_word_status "$t") == 2 ? 2 : 1))" ]
    [[ "$stderr" == "$t: error: "* ]]
  done
}

@test "every tool: no verb exits 2" {
  for t in $(tools); do
    run --separate-stderr "$t"
    assert_failure 2
    [[ "$stderr" == "$t: error: a verb is required"* ]]
  done
}

@test "every tool: verbs are never matched by prefix" {
  for t in $(tools); do
    v=$("$t" completion words | cut -f1 | grep -v '^\.$' | grep -v ' ' | sort -u | awk 'length($0) > 3' | head -1)
    run --separate-stderr "$t" "${v%?}"
    assert_failure "$(bare_word_status "$t")"
  done
}

@test "every tool: a bad --output value exits 2" {
  for t in $(tools); do
    run --separate-stderr "$t" -o yaml --version
    assert_failure 2
    [[ "$stderr" == "$t: error: "* ]]
  done
}

@test "every tool: each option is in its man page, and the man page names no option the tool lacks" {
  for t in $(tools); do
    man="$CUBE_ROOT/man/$t.1.scd"
    [ -f "$man" ] || fail "$man is missing"
    "$t" completion words | cut -f2 | grep '^--' | sort -u >"$TMP/code"
    grep -oE '\*--[a-z0-9-]+' "$man" | tr -d '*' | sort -u >"$TMP/man"
    run comm -3 "$TMP/code" "$TMP/man"
    [ -z "$output" ] || fail "$t: options in code only (left) or man page only (right): $output"
    for section in SYNOPSIS OPTIONS "EXIT STATUS" FILES ENVIRONMENT EXAMPLES "SEE ALSO"; do
      grep -q "^# $section" "$man" || fail "$man has no $section section"
    done
  done
}

@test "every tool: the committed completions are what the tool generates" {
  for t in $(tools); do
    diff -u "$CUBE_ROOT/completions/bash/$t" <("$t" completion bash)
    diff -u "$CUBE_ROOT/completions/zsh/_$t" <("$t" completion zsh)
    diff -u "$CUBE_ROOT/completions/fish/$t.fish" <("$t" completion fish)
  done
}

@test "every tool: completions parse in their shells" {
  for t in $(tools); do
    bash -n "$CUBE_ROOT/completions/bash/$t"
    if command -v zsh >/dev/null; then zsh -n "$CUBE_ROOT/completions/zsh/_$t"; fi
    if command -v fish >/dev/null; then fish --no-execute "$CUBE_ROOT/completions/fish/$t.fish"; fi
  done
}

@test "every tool: bash completion offers the verbs and a verb's options" {
  for t in $(tools); do
    source "$CUBE_ROOT/completions/bash/$t"
    fn="_${t//-/_}"
    COMP_WORDS=("$t" "")
    COMP_CWORD=1
    "$fn"
    [[ " ${COMPREPLY[*]} " == *" completion "* ]]
    COMP_WORDS=("$t" -o "")
    COMP_CWORD=2
    "$fn"
    [[ " ${COMPREPLY[*]} " == *" jsonl "* ]]
  done
}

@test "every tool: a closed stdout pipe is quiet" {
  for t in $(tools); do
    run bash -c "set -o pipefail; '$t' completion bash | head -c1 >/dev/null; echo \${PIPESTATUS[0]}"
    [ "${lines[-1]}" = 0 ]
  done
}

@test "every tool: --log-format json writes one JSON object per diagnostic line" {
  for t in $(tools); do
    run --separate-stderr "$t" --log-format json config --config "$TMP/missing.toml"
    assert_failure 2
    run --separate-stderr "$t" --log-format json -v --version
    assert_success
  done
  printf '[versions]\nnope = 1\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-versions --log-format json config
  assert_success
  jq -e 'select(.level == "warning" and .tool == "cube-versions" and (.msg | contains("nope")) and (.ts | test("Z$")))' <<<"$stderr"
}

@test "the repository explains itself: no citation of notes outside it" {
  # Code, scripts, man pages and docs cite doc/ pages or man pages. The patterns are written so that
  # this test does not match itself.
  cd "$CUBE_ROOT"
  run grep -rnE 'spec[ ]§|[(]spec[ ][0-9]|DESIGN[.]md|[.][.]/shared|upstream-behaviour[.]md' \
    common tools scripts man doc README.md Makefile tests
  [ -z "$output" ] || fail "cites material outside the repository: $output"
}

@test "make install honours PREFIX and DESTDIR" {
  dest="$TMP/root"
  cube_make -s install DESTDIR="$dest" PREFIX=/opt/cube >/dev/null
  for t in $(tools); do
    [ -x "$dest/opt/cube/bin/$t" ]
    [ -f "$dest/opt/cube/share/man/man1/$t.1" ]
    [ -f "$dest/opt/cube/share/bash-completion/completions/$t" ]
    [ -f "$dest/opt/cube/share/zsh/site-functions/_$t" ]
    [ -f "$dest/opt/cube/share/fish/vendor_completions.d/$t.fish" ]
  done
  [ -f "$dest/opt/cube/share/man/man7/cube.7" ]
  [ -f "$dest/opt/cube/share/man/man5/cube-state.5" ]
  [ -f "$dest/opt/cube/lib/systemd/system/cube-versions-collect.timer" ]
  # Installed binaries carry no debug sections; the build's still do.
  for t in $(tools); do
    ! readelf -S "$dest/opt/cube/bin/$t" | grep -q '\.debug_info'
    readelf -S "$CUBE_BUILD/bin/$t" | grep -q '\.debug_info'
  done
}

@test "make install KEEP_DEBUG=1 puts debug info where gdb finds it" {
  require_command gdb
  # No DESTDIR here: gdb looks for <debug dir>/<the binary's own directory>/<its debuglink>.
  cube_make -s install PREFIX="$TMP/p" DEBUGDIR="$TMP/dbg" KEEP_DEBUG=1 >/dev/null
  readelf -S "$TMP/dbg$TMP/p/bin/cube-sched.debug" | grep -q '\.debug_info'
  run gdb -batch -iex "set debug-file-directory $TMP/dbg" -ex 'info line main' "$TMP/p/bin/cube-sched"
  assert_output --regexp '^Line [0-9]+ of'
  run gdb -batch -iex "set debug-file-directory $TMP/none" -ex 'info line main' "$TMP/p/bin/cube-sched"
  assert_output --partial 'No line number information'
}

@test "the state file: 0600 in a new 0700 directory, WAL, migrated to the newest schema" {
  export CUBE_STATE="$TMP/new/dir/state.db"
  cube-versions matrix -o json >/dev/null
  [ "$(stat -c %a "$TMP/new/dir")" = 700 ]
  [ "$(stat -c %a "$CUBE_STATE")" = 600 ]
  [ "$(sqlite3 "$CUBE_STATE" 'PRAGMA journal_mode')" = wal ]
  n=$(ls "$CUBE_ROOT"/common/migrations/*.sql | sed 's|.*/0*||; s|_.*||' | sort -n | tail -1)
  [ "$(sqlite3 "$CUBE_STATE" 'PRAGMA user_version')" = "$n" ]
}

@test "the state file: a file that is not SQLite is a clear error" {
  echo "not a database" >"$TMP/junk.db"
  for t in $(tools); do
    run --separate-stderr "$t" --state "$TMP/junk.db" config
    [ "$status" -ne 0 ] || continue  # a verb that does not open the state file
  done
  run --separate-stderr cube-versions --state "$TMP/junk.db" matrix
  assert_failure 1
  [[ "$stderr" == *"state file $TMP/junk.db"*"not a cube state file or is damaged"* ]]
}

@test "the BPF chain builds a program into a skeleton" {
  require_command bpftool
  require_command clang
  [ -f /usr/include/bpf/bpf_helpers.h ] || skip "needs libbpf-dev"
  work="$TMP/bpfchain"
  mkdir -p "$work/bpf" "$work/scripts"
  cp "$CUBE_ROOT/Makefile" "$work/"
  cp "$CUBE_ROOT/scripts/check-deps" "$work/scripts/"
  cat >"$work/bpf/probe.bpf.c" <<'C'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int probe(struct __sk_buff *skb) { return 0; }
char LICENSE[] SEC("license") = "GPL";
C
  # SAN= : under `make check SAN=1` the parent make passes SAN down, which would move the build
  # directory to build/san; this test is about the chain, not the flags.
  make -C "$work" -s SAN= build/bpf/probe.skel.h >/dev/null
  grep -q 'probe_bpf__open_and_load' "$work/build/bpf/probe.skel.h"
}

# A bare machine: every path scripts/check-deps looks for is missing under DEPS_ROOT until the
# (stand-in) installer has run. make must reach the installer before it looks for anything.
fake_installer() {
  cat >"$TMP/install" <<SH
#!/bin/sh
echo installer-ran >>"$TMP/events"
sed -n '/^LIST\$/q; /^\\//p' "$CUBE_ROOT/scripts/check-deps" | while read -r path pkg; do
  mkdir -p "\$(dirname "$TMP/bare\$path")" && ln -sf "\$path" "$TMP/bare\$path"
done
SH
  chmod +x "$TMP/install"
  mkdir -p "$TMP/bare"
}

@test "make on a bare machine: the dependency check names the Debian package, after parsing" {
  mkdir -p "$TMP/bare"
  run --separate-stderr cube_make all DEPS_ROOT="$TMP/bare"
  assert_failure
  [[ "$stderr" == *"/usr/include/CLI/CLI.hpp (Debian package libcli11-dev)"* ]]
  [[ "$stderr" == *"run scripts/install-deps"* ]]
  [[ "$stderr" != *"Makefile:"*"missing"* ]]  # not a parse-time $(error)
  # The same Makefile lists its goals without any package: nothing is checked while it is read.
  run cube_make -n check DEPS_ROOT="$TMP/bare"
  assert_success
}

@test "make demo on a bare machine installs first, then builds and tells the story to the end" {
  fake_installer
  # CUBE_DEMO_QUICK: the sandbox chapter's microVM boot is tests/cube-sandbox.bats's to check.
  CUBE_DEMO_QUICK=1 run cube_make demo DEPS_ROOT="$TMP/bare" INSTALL_DEPS="$TMP/install"
  assert_success
  [ "$(cat "$TMP/events")" = installer-ran ]
  assert_output --partial "Demo finished"
}

@test "the state file: a newer schema is refused before anything is written, naming both versions" {
  cube-versions matrix -o json >/dev/null
  n=$(sqlite3 "$CUBE_STATE" 'PRAGMA user_version')
  sqlite3 "$CUBE_STATE" "PRAGMA journal_mode=DELETE; PRAGMA user_version=$((n + 7))" >/dev/null
  before=$(sha256sum <"$CUBE_STATE")
  for cmd in "cube-versions matrix" "cube-sched node list" "cube-tap list" "cube-rootfs list"; do
    run --separate-stderr $cmd
    assert_failure 1
    [[ "$stderr" == *"state file $CUBE_STATE has schema version $((n + 7)), newer than this tool's $n"* ]] || fail "$cmd: $stderr"
  done
  [ "$(sha256sum <"$CUBE_STATE")" = "$before" ]
  [ "$(sqlite3 "$CUBE_STATE" 'PRAGMA journal_mode')" = delete ]
  [ ! -e "$CUBE_STATE-wal" ]
}

@test "the state file: --state '' is exit 2 in every tool; a symbolic link in the path is named as one" {
  for t in $(tools); do
    run --separate-stderr "$t" --state '' config
    assert_failure 2
    [[ "$stderr" == *"--state: an empty value is not allowed"* ]] || fail "$t: $stderr"
  done
  mkdir "$TMP/real"
  cube-versions --state "$TMP/real/state.db" matrix >/dev/null
  ln -s real "$TMP/dirlink"
  ln -s real/state.db "$TMP/filelink.db"
  run --separate-stderr cube-versions --state "$TMP/filelink.db" matrix
  assert_failure 1
  [[ "$stderr" == *"state file $TMP/filelink.db: $TMP/filelink.db is a symbolic link"* ]]
  run --separate-stderr cube-versions --state "$TMP/dirlink/state.db" matrix
  assert_failure 1
  [[ "$stderr" == *"state file $TMP/dirlink/state.db: $TMP/dirlink is a symbolic link"* ]]
}

# no_controls TEXT: no byte a terminal acts on (C0 but newline, DEL, C1 as UTF-8 or single bytes).
no_controls() {
  ! printf '%s' "$1" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]' &&
    ! printf '%s' "$1" | LC_ALL=C grep -q $'\xc2[\x80-\x9f]' &&
    ! printf '%s' "$1" | LC_ALL=C grep -q $'[^\xc2]\x9b'
}

@test "every tool: control bytes from arguments, IDs, selectors and config never reach stderr raw" {
  esc=$'\033[2J\033]0;x\a'
  c1=$'\xc2\x9b31m\x9b'
  for t in $(tools); do
    for args in "--output x${esc}" "nosuch${esc}" "--nosuch${c1}" "config --nosuch=${esc}"; do
      run --separate-stderr "$t" $args
      assert_failure 2
      no_controls "$stderr" || fail "$t $args: $(printf '%s' "$stderr" | od -c | head)"
    done
  done
  for cmd in "cube-logs read sb${esc} --root $TMP" "cube-logs read sb --root $TMP --since x${esc}" \
    "cube-sched node show n${esc}" "cube-tap show sb${c1}" "cube-versions ingest --node n${esc}"; do
    run --separate-stderr $cmd </dev/null
    [ "$status" -ne 0 ]
    no_controls "$stderr" || fail "$cmd: $(printf '%s' "$stderr" | od -c | head)"
  done
  # Raw control bytes are not JSON; escaped ones parse, and the key is refused, printed escaped.
  run --separate-stderr cube-sched place --cpu 1 --mem 1G \
    --selector "[{\"key\":\"k${esc}\",\"operator\":\"In\",\"values\":[\"a\"]}]"
  assert_failure 2
  no_controls "$stderr"
  run --separate-stderr cube-sched place --cpu 1 --mem 1G \
    --selector '[{"key":"k\u001b[2J","operator":"In","values":["a"]}]'
  assert_failure 2
  no_controls "$stderr"
  [[ "$stderr" == *'\x1b[2J'* ]]
  # Likewise in TOML: raw, the file is refused; escaped, the unknown key is named, escaped.
  printf '[logs]\n"key\033[2J" = 1\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-logs config
  assert_failure 2
  no_controls "$stderr"
  printf '[logs]\n"key\\u001b[2J" = 1\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-logs config
  no_controls "$stderr"
  [[ "$stderr" == *'key\x1b[2J'* ]]
}

@test "every tool: numbers are whole, in range and overflow-checked; the message gives the real limit" {
  check() {  # check EXPECTED CMD…: exit 2 and EXPECTED in the message
    local want="$1"
    shift
    run --separate-stderr "$@"
    assert_failure 2
    [[ "$stderr" == *"$want"* ]] || fail "$*: $stderr"
  }
  big=99999999999999999999
  check "$big is too large (at most 1000)" cube-logs forward --bundle "$TMP/b" --stdout-fd 0 --max-files $big
  check "-1 is too small (at least 1)" cube-rootfs convert x --out y --max-entries -1
  check "$big is too large (at most 9223372036854775807)" cube-rootfs convert x --out y --max-entries $big
  check "$big is too large (at most 65521)" cube-tap setup --mtu $big
  check "-1 is too small (at least 0)" cube-tap pool warm -1
  check "$big is too large (at most 36500)" cube-egress-rules ca init --days $big
  check "0 is too small (at least 1)" cube-egress-rules serve --threads 0
  check "-1 is too small (at least 0)" cube-sched node register n --cpu 1 --mem 1G --max-sandboxes -1
  check "invalid value '0x10'" cube-sched place --cpu 1 --mem 1G --random-top 0x10
  for v in nan inf 1e2 101 -1 ' 5' 5x; do
    check "--cpu-util" cube-sched heartbeat n --cpu-util "$v"
  done
  check "invalid value 'nan'" cube-rootfs build x --safety-margin nan
  check "--since: an empty value is not allowed" cube-logs read sb --since ''
  check "--cpu: an empty value is not allowed" cube-sched place --cpu '' --mem 1G
  check "value too large" cube-sched place --cpu 1 --mem $big
  check "value too large" cube-rootfs gc --grace ${big}s
}

@test "cube-sched: selectors with NaN, trailing words or cut short are syntax errors, not 'not an array'" {
  for sel in '[NaN]' '[] x' '[{"key":"zone","operator":"In","values":["a"]}' '[1e999999]' '{"key":"zone"}'; do
    run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector "$sel"
    assert_failure 2
    [[ "$stderr" != *"not a JSON array ("* ]] || fail "$sel: $stderr"
  done
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector '[NaN]'
  [[ "$stderr" == *"node selector is not valid JSON: syntax error at byte 2"* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector '[] x'
  [[ "$stderr" == *"syntax error at byte 4"* ]]
  run --separate-stderr cube-sched place --cpu 1 --mem 1G --selector '{"key":"zone"}'
  [[ "$stderr" == *"not a JSON array but an object"* ]]
}

@test "every tool: a config file that is not UTF-8 is exit 2 naming the place (toml++ would abort)" {
  cp "$CUBE_ROOT/tests/fuzz/corpus/config/crash-invalid-utf8-key" "$CUBE_CONFIG"
  for t in $(tools); do
    run --separate-stderr "$t" config
    assert_failure 2
    [[ "$stderr" == *"config file $CUBE_CONFIG:5:8: not valid UTF-8"* ]] || fail "$t: $stderr"
  done
}

@test "every tool: a raw control character in a config file is exit 2 naming the place" {
  for t in $(tools); do
    printf '[logs]\n# a comment\nkey = "a\001b"\n' >"$CUBE_CONFIG"
    run --separate-stderr "$t" config
    assert_failure 2
    [[ "$stderr" == *"config file $CUBE_CONFIG:3:9: control character 0x01"* ]] || fail "$t: $stderr"
  done
  # Fuzzing found toml++ reaching an unreachable branch on such bytes; the input stays in the corpus.
  cp "$CUBE_ROOT/tests/fuzz/corpus/config/crash-control-bytes-unreachable" "$CUBE_CONFIG"
  run --separate-stderr cube-sched config
  assert_failure 2
}

@test "config: a non-ASCII character where white space may stand is an error or text, never undefined behaviour" {
  # Fuzzing found toml++ 3.3 reaching an unreachable branch for U+00A1..U+0499 and U+FC58..U+FEFE
  # where it looks for white space; the input that found it stays in the corpus.
  cp "$CUBE_ROOT/tests/fuzz/corpus/config/unicode-space-gap" "$CUBE_CONFIG"
  run --separate-stderr cube-logs config
  assert_failure 2
  printf '[logs]\nmax_files = 5\xc3\xa9\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-logs config
  assert_failure 2
  [[ "$stderr" == *"config file $CUBE_CONFIG:2:14: "*"saw 'é'"* ]] || fail "$stderr"
  # After a line-ending backslash the parser skips white space; these characters are text.
  for c in '\xc2\xa1' '\xd2\x99' '\xef\xb1\x98' '\xef\xbb\xbe'; do
    printf "[logs]\nroot = \"\"\"\\\\\n  ${c}dir\"\"\"\n" >"$CUBE_CONFIG"
    run --separate-stderr cube-logs config -o tsv
    assert_success
    [[ "$output" == *"logs.root	$(printf "$c")dir	config"* ]] || fail "$c: $output"
  done
}

@test "every tool: a config file the parser cannot follow is exit 2, not an abort inside toml++" {
  cp "$CUBE_ROOT/tests/fuzz/corpus/config/internal-check-unclosed-table" "$CUBE_CONFIG"
  for t in $(tools); do
    run --separate-stderr "$t" config
    assert_failure 2
    [[ "$stderr" == *"config file $CUBE_CONFIG: not valid TOML (the parser could not follow it"* ]] ||
      fail "$t: $stderr"
  done
}

@test "every tool: [state] cluster in the config file is no unknown table to anyone" {
  printf '[state]\ncluster = "postgresql://cube:secret@db.example/cube"\n' >"$CUBE_CONFIG"
  for t in $(tools); do
    run --separate-stderr "$t" config
    assert_success
    [ -z "$stderr" ] || fail "$t: $stderr"
  done
}
