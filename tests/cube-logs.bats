#!/usr/bin/env bats
# cube-logs: the forwarder against real children, pipes and sockets; the reader against real files,
# rotations, attacks, a real mount namespace, and GNU tail/head byte for byte.
load helpers

setup() {
  cube_setup
  ROOT="$TMP/root"
  mkdir -p "$ROOT"
  GEN="$CUBE_ROOT/tests/logs/gen-cri.py"
}
teardown() {
  for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null || true; done
  if mountpoint -q "$TMP/small" 2>/dev/null; then umount "$TMP/small"; fi
  cube_teardown
}

# wait_for CMD…: retries CMD for up to 10 s (never a timing assertion: a deadline for a hang).
wait_for() {
  for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
  return 1
}
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# sleeping PID: the process's main thread is blocked (state S), so it has acted on every wake-up
# it had: a read that a write was going to cause has happened.
sleeping() { [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = S ]; }
# watching PID: a --follow reader has opened its files and set its inotify watch (in that order).
watching() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'anon_inode:inotify'; }
# stamp_ns STAMP: an RFC 3339 time (a CRI record's) in Unix nanoseconds.
stamp_ns() { date -d "$1" +%s%N; }
cri_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z (stdout|stderr) [PF] '

# --- forwarder -------------------------------------------------------------------------------------

@test "forward: a child's stdout and stderr become CRI files (0600 in a 0700 dir) and its status is kept" {
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" -- sh -c 'echo out1; echo err1 >&2; echo out2; exit 7'
  assert_failure 7
  [ "$(stat -c %a "$ROOT/sb")" = 700 ]
  [ "$(stat -c %a "$ROOT/sb/stdout")" = 600 ]
  [ "$(stat -c %a "$ROOT/sb/stderr")" = 600 ]
  grep -Eq "${cri_re}out1\$" "$ROOT/sb/stdout"
  [ "$(grep -Evc "$cri_re" "$ROOT/sb/stdout")" = 0 ]
  [ "$(cut -d' ' -f2- "$ROOT/sb/stdout")" = "$(printf 'stdout F out1\nstdout F out2')" ]
  [ "$(cut -d' ' -f2- "$ROOT/sb/stderr")" = "stderr F err1" ]
}

@test "forward: partial lines are joined; a child that exits mid-line leaves an F record" {
  cube-logs forward --bundle "$ROOT/sb" -- sh -c 'printf "ab"; sleep 0.2; printf "c\nd"; sleep 0.2; printf "e"'
  [ "$(cut -d' ' -f2- "$ROOT/sb/stdout")" = "$(printf 'stdout F abc\nstdout F de')" ]
  run cube-logs read sb --root "$ROOT"
  assert_output "$(printf 'abc\nde')"
}

@test "forward: 1 MiB lines and binary bytes come back byte for byte; lines over 16 KiB are P…P F" {
  python3 -c '
import sys
w = sys.stdout.buffer.write
w(b"x" * (1 << 20) + b"\n")            # exactly 64 x 16 KiB: 63 P records and an F
w(b"y" * 16384 + b"\n")                # exactly 16 KiB: one F
w(b"z" * 16385 + b"\n")                # one byte over: P + F
w(bytes(range(256)).replace(b"\n", b"") + b"\r\n")  # NUL, 0xff, CR LF kept
w(b"\n")                               # an empty line
' >"$TMP/in"
  cube-logs forward --bundle "$ROOT/sb" --stdout-fd 3 3<"$TMP/in"
  [ "$(awk '{print $3}' "$ROOT/sb/stdout" | tr -d '\n')" = "$(printf 'P%.0s' $(seq 63))FFPFFF" ]
  [ "$(head -1 "$ROOT/sb/stdout" | wc -c)" = $((31 + 7 + 2 + 16384 + 1)) ]
  cube-logs read sb --root "$ROOT" --all >"$TMP/out"
  cmp "$TMP/in" "$TMP/out"
}

@test "forward: a killed child: its output so far is kept and the status is 128+9" {
  run cube-logs forward --bundle "$ROOT/sb" -- sh -c 'echo before; kill -9 $$'
  assert_failure 137
  [ "$(cube-logs read sb --root "$ROOT")" = before ]
}

@test "forward: SIGTERM drains what is buffered, writes the unfinished line as P, exits 0" {
  mkfifo "$TMP/fifo"
  cube-logs forward --bundle "$ROOT/sb" --stdout-fd 3 3<"$TMP/fifo" &
  fwd=$!
  exec 4>"$TMP/fifo"
  printf 'one\ntwo\nthr' >&4
  wait_for grep -q 'F two$' "$ROOT/sb/stdout"
  kill -TERM "$fwd"
  rc=0
  wait "$fwd" || rc=$?
  [ "$rc" = 0 ]
  exec 4>&-
  [ "$(awk '{print $3, $4}' "$ROOT/sb/stdout")" = "$(printf 'F one\nF two\nP thr')" ]
}

@test "forward: SIGUSR1 pauses reading, SIGUSR2 resumes, nothing lost" {
  mkfifo "$TMP/fifo"
  cube-logs -v forward --bundle "$ROOT/sb" --stdout-fd 3 3<"$TMP/fifo" 2>"$TMP/fwd.err" &
  fwd=$!
  BG_PIDS=$fwd
  exec 4>"$TMP/fifo"
  echo first >&4
  wait_for grep -q 'F first$' "$ROOT/sb/stdout"
  kill -USR1 "$fwd"
  wait_for grep -q 'paused: not reading until SIGUSR2' "$TMP/fwd.err"
  echo second >&4
  # A forwarder still reading would be woken by that write and read it before it sleeps again.
  wait_for sleeping "$fwd"
  resumed=$(date +%s%N)
  kill -USR2 "$fwd"
  wait_for grep -q 'F second$' "$ROOT/sb/stdout"
  # A record is stamped when its bytes are read: "second" was read after the resume, not before.
  [ "$(stamp_ns "$(grep 'F second$' "$ROOT/sb/stdout" | cut -d' ' -f1)")" -ge "$resumed" ]
  exec 4>&-
  wait "$fwd"
}

@test "forward: the socket multiplex carries both streams, frames split anywhere" {
  sock="$TMP/log.sock"
  python3 "$CUBE_ROOT/tests/logs/mux-server.py" "$sock" '1:hello wo' '1:rld\nsecond\n' '2:oops\n' '1:tail' &
  wait_for test -e "$sock.ready"
  cube-logs forward --bundle "$ROOT/sb" --socket "$sock"
  [ "$(cube-logs read sb --root "$ROOT")" = "$(printf 'hello world\nsecond\ntail')" ]
  [ "$(cube-logs read sb --root "$ROOT" --stderr)" = oops ]
}

@test "forward: a frame naming an unknown stream fails, naming the frame" {
  sock="$TMP/log.sock"
  python3 "$CUBE_ROOT/tests/logs/mux-server.py" "$sock" '1:ok\n' '7:bad\n' &
  wait_for test -e "$sock.ready"
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --socket "$sock"
  assert_failure 1
  [[ "$stderr" == *"frame 2 names stream 7"* ]]
}

@test "forward: --vsock reaches a vsock listener" {
  python3 -c 'import socket; s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM); s.bind((1, 0))' 2>/dev/null ||
    skip "no local vsock transport (vsock_loopback)"
  run cube-logs forward --bundle "$ROOT/sb" --vsock 1:1
  assert_failure
}

@test "forward: rotation is exact under a fast writer: every line once, no file over max-size" {
  seq 1 60000 | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 64K --max-files 100
  [ -e "$ROOT/sb/stdout.20" ]
  for f in "$ROOT"/sb/stdout*; do [ "$(stat -c %s "$f")" -le 65536 ]; done
  cube-logs read sb --root "$ROOT" --all >"$TMP/out"
  seq 1 60000 | cmp - "$TMP/out"
}

@test "forward: --max-files bounds the files kept, the newest lines survive" {
  seq 1 30000 | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 16K --max-files 3
  [ "$(ls "$ROOT/sb" | grep -c '^stdout')" = 3 ]
  cube-logs read sb --root "$ROOT" --all >"$TMP/out"
  [ "$(tail -1 "$TMP/out")" = 30000 ]
  seq "$(head -1 "$TMP/out")" 30000 | cmp - "$TMP/out"
}

@test "forward: rotation while --follow reads: every line printed exactly once" {
  mkfifo "$TMP/fifo"
  # About 60 rotations, and room to keep every file: a follower starved by a loaded machine must
  # still find each rotated file, so this checks exactly-once, not the machine's speed.
  cube-logs forward --bundle "$ROOT/sb" --stdout-fd 3 --max-size 64K --max-files 200 3<"$TMP/fifo" &
  fwd=$!
  exec 4>"$TMP/fifo"
  wait_for test -e "$ROOT/sb/stdout"
  cube-logs read sb --root "$ROOT" --follow --all >"$TMP/out" 4>&- &  # not holding the pipe open
  BG_PIDS=$!
  # The follower opens the files before the writing starts: this test is about following, and a
  # first open that meets a rotation half done finds no current file.
  wait_for watching "$BG_PIDS"
  seq 1 100000 >&4
  exec 4>&-
  wait "$fwd"
  [ -e "$ROOT/sb/stdout.10" ]
  # A marker after the last line: once the follower prints it, anything it printed twice is in
  # the output before it.
  echo marker | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 64K --max-files 200
  wait_for grep -qx marker "$TMP/out"
  { seq 1 100000; echo marker; } | cmp - "$TMP/out"
}

@test "forward: bad usage exits 2 naming the problem; a missing command exits 3" {
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb"
  assert_failure 2
  [[ "$stderr" == *"forward needs an input"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --socket "$TMP/s"
  assert_failure 2
  [[ "$stderr" == *"one kind of input"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 1M --max-files 1
  assert_failure 2
  [[ "$stderr" == *"--max-files 1 is too small"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 100
  assert_failure 2
  [[ "$stderr" == *"--max-size 100 is too small"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --stdout-fd 77
  assert_failure 2
  [[ "$stderr" == *"fd 77 is not open"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --vsock 3
  assert_failure 2
  [[ "$stderr" == *"is not CID:PORT"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" --max-size lots --stdout-fd 0
  assert_failure 2
  run --separate-stderr cube-logs forward --stdout-fd 0
  assert_failure 2
  run --separate-stderr cube-logs forward --bundle "$ROOT/sb" -- /no/such/command
  assert_failure 3
  [[ "$stderr" == *"cannot run /no/such/command"* ]]
}

# --- reader ----------------------------------------------------------------------------------------

# make_log ID: stdout with lines 1..300 and stderr with lines 1..50, timestamps interleaved.
make_log() {
  mkdir -p "$ROOT/$1"
  "$GEN" "$ROOT/$1/stdout" stdout 1 300 1800000000 1000
  "$GEN" "$ROOT/$1/stderr" stderr 1 50 1800000000 1500
}

@test "read: default is the last 100 lines of stdout; cube-logs ID is cube-logs read ID" {
  make_log sb
  run cube-logs sb --root "$ROOT"
  assert_success
  [ "${#lines[@]}" = 100 ]
  [ "${lines[0]}" = "line 201" ]
  [ "${lines[99]}" = "line 300" ]
  [ "$(cube-logs read sb --root "$ROOT")" = "$output" ]
}

@test "read: --tail, --head, --all, --tail 0, --stderr, --timestamps, --raw" {
  make_log sb
  [ "$(cube-logs sb --root "$ROOT" --tail 2)" = "$(printf 'line 299\nline 300')" ]
  [ "$(cube-logs sb --root "$ROOT" -t 1 -e)" = "line 50" ]
  [ "$(cube-logs sb --root "$ROOT" --head 2)" = "$(printf 'line 1\nline 2')" ]
  [ "$(cube-logs sb --root "$ROOT" --all | wc -l)" = 300 ]
  [ -z "$(cube-logs sb --root "$ROOT" --tail 0)" ]
  [ -z "$(cube-logs sb --root "$ROOT" --head 0)" ]
  [ "$(cube-logs sb --root "$ROOT" --tail 1 --timestamps)" = "2027-01-15T08:05:00.000000000Z line 300" ]
  [ "$(cube-logs sb --root "$ROOT" --tail 1 --raw)" = "$(tail -1 "$ROOT/sb/stdout")" ]
}

@test "read: --stream all merges stdout and stderr by time" {
  make_log sb
  cube-logs sb --root "$ROOT" --stream all --all --raw >"$TMP/out"
  sort -s -k1,1 "$ROOT/sb/stdout" "$ROOT/sb/stderr" >"$TMP/want"
  cmp "$TMP/want" "$TMP/out"
  [ "$(cube-logs sb --root "$ROOT" --stream all --tail 3)" = "$(printf 'line 298\nline 299\nline 300')" ]
  [ "$(cube-logs sb --root "$ROOT" --stream all --head 3)" = "$(printf 'line 1\nline 1\nline 2')" ]
}

@test "read: --since/--until select by time across rotated files, as awk would" {
  mkdir -p "$ROOT/sb"
  "$GEN" "$ROOT/sb/stdout.2" stdout 1 5000 1800000000 10
  "$GEN" "$ROOT/sb/stdout.1" stdout 5001 9000 1800000000 10
  "$GEN" "$ROOT/sb/stdout" stdout 9001 12000 1800000000 10
  : >"$ROOT/sb/stderr"
  all() { cat "$ROOT/sb/stdout.2" "$ROOT/sb/stdout.1" "$ROOT/sb/stdout"; }
  # Nine fraction digits, as stored, so awk's string comparison is a time comparison.
  for t in 2027-01-15T08:00:00.000000000Z 2027-01-15T08:00:49.995000000Z 2027-01-15T08:00:50.010000000Z \
    2027-01-15T08:00:50.010000001Z 2027-01-15T08:01:30.000000000Z 2030-01-01T00:00:00.000000000Z \
    2000-01-01T00:00:00.000000000Z; do
    cube-logs sb --root "$ROOT" --since "$t" --raw >"$TMP/out"
    all | awk -v t="$t" '$1 >= t' >"$TMP/want"
    cmp "$TMP/want" "$TMP/out" || fail "--since $t differs"
  done
  [ "$(cube-logs sb --root "$ROOT" --since 2027-01-15T08:00:10Z --until 2027-01-15T08:00:10.030Z)" = "$(printf 'line 1000\nline 1001\nline 1002\nline 1003')" ]
  [ "$(cube-logs sb --root "$ROOT" --since 2027-01-15T09:00:10+01:00 --head 1)" = "line 1000" ]
  [ "$(cube-logs sb --root "$ROOT" --until 2027-01-15T08:00:10Z --tail 1)" = "line 1000" ]
  [ -z "$(cube-logs sb --root "$ROOT" --until 1m)" ]  # these lines are from 2027: after now - 1m
}

@test "read: P records are reassembled, also after --since lands inside a line" {
  mkdir -p "$ROOT/sb"
  python3 -c 'print("x" * 40000); print("short")' | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0
  run cube-logs sb --root "$ROOT" --tail 2
  [ "${#lines[0]}" = 40000 ]
  [ "${lines[1]}" = short ]
  [ "$(cube-logs sb --root "$ROOT" --tail 1)" = short ]
  [ "$(cube-logs sb --root "$ROOT" --raw --tail 1)" != short ]
}

@test "read: plain (non-CRI) files are printed as they are" {
  mkdir -p "$ROOT/sb"
  printf 'plain one\nplain two\n' >"$ROOT/sb/stdout"
  [ "$(cube-logs sb --root "$ROOT")" = "$(printf 'plain one\nplain two')" ]
}

@test "read: --template reads /data/log/template/ID under --root, with a template message" {
  make_log tpl-0123456789abcdef01234567
  [ "$(cube-logs read tpl-0123456789abcdef01234567 --template --root "$ROOT" --tail 1)" = "line 300" ]
  run --separate-stderr cube-logs read tpl-aaaaaaaaaaaaaaaaaaaaaaaa --template --root "$ROOT"
  assert_failure 3
  [[ "$stderr" != *sandbox* ]]
}

@test "read: a missing log is exit 3 with the upstream message" {
  run --separate-stderr cube-logs read nosuch --root "$ROOT"
  assert_failure 3
  [ "$stderr" = "cube-logs: error: log file not found: $ROOT/nosuch/stdout (sandbox may not exist or log forwarding may not be enabled)" ]
  run --separate-stderr cube-logs read nosuch --root "$TMP/absent"
  assert_failure 3
}

@test "read: every excluded flag combination and bad value exits 2 with a clear message" {
  make_log sb
  for combo in "--all --tail 5" "--all --head 5" "--tail 5 --head 5" "--stderr --stream all" \
    "--follow --head 5" "--follow --until 1m"; do
    run --separate-stderr cube-logs read sb --root "$ROOT" $combo
    assert_failure 2
    [[ "$stderr" == *"excludes"* ]] || fail "$combo: $stderr"
  done
  run --separate-stderr cube-logs read sb --root "$ROOT" --stream both
  assert_failure 2
  run --separate-stderr cube-logs read sb --root "$ROOT" --since yesterday
  assert_failure 2
  [[ "$stderr" == *'--since "yesterday" is not a time'* ]]
  run --separate-stderr cube-logs read sb --root "$ROOT" --tail -1
  assert_failure 2
  run --separate-stderr cube-logs read --root "$ROOT"
  assert_failure 2
  for id in ../sb 'a/b' 'a.b' '' "$(printf 'x%.0s' $(seq 129))"; do
    run --separate-stderr cube-logs read "$id" --root "$ROOT"
    assert_failure 2
  done
}

@test "read: symlink, FIFO, hard link and .. attacks are refused and nothing outside the root is read" {
  echo SECRET >"$TMP/secret"
  mkdir -p "$ROOT/link" "$ROOT/fifo" "$ROOT/hard" "$ROOT/rot"
  ln -s "$TMP/secret" "$ROOT/link/stdout"
  mkfifo "$ROOT/fifo/stdout"
  ln "$TMP/secret" "$ROOT/hard/stdout"
  ln -s "$TMP" "$ROOT/dirlink"
  echo ok >"$ROOT/rot/stdout"
  ln -s "$TMP/secret" "$ROOT/rot/stdout.1"
  for id in link fifo hard dirlink rot; do
    run --separate-stderr timeout 10 cube-logs read "$id" --root "$ROOT" --all
    assert_failure 1
    [[ "$stderr" == *"refusing to read"* ]] || fail "$id: $stderr"
    [[ "$output" != *SECRET* ]]
  done
  run --separate-stderr cube-logs read .. --root "$ROOT/link"
  assert_failure 2
}

@test "read: the per-component fallback refuses symlinks and .. too (unit-tested walk, via the binary)" {
  # openat2 is what runs on this kernel; the walk is covered by the unit tests. Here: a symlinked
  # directory component below the root is refused by the real binary.
  mkdir -p "$ROOT/real"
  echo hi >"$ROOT/real/stdout"
  ln -s real "$ROOT/alias"
  run cube-logs read alias --root "$ROOT"
  assert_failure 1
  [ "$(cube-logs read real --root "$ROOT")" = hi ]
}

@test "read: --mount-ns reads a log that exists only inside another mount namespace" {
  require_root
  require_command unshare
  mkdir -p "$TMP/nsroot"
  unshare -m --propagation private sh -c "
    mount -t tmpfs tmpfs '$TMP/nsroot' &&
    mkdir '$TMP/nsroot/sb' && echo 'inside the namespace' >'$TMP/nsroot/sb/stdout' &&
    touch '$TMP/ns-ready' && exec sleep 60" &
  holder=$!
  BG_PIDS=$holder
  wait_for test -e "$TMP/ns-ready"
  run cube-logs read sb --root "$TMP/nsroot"
  assert_failure 3
  run cube-logs read sb --root "$TMP/nsroot" --mount-ns "/proc/$holder/ns/mnt"
  assert_success
  assert_output "inside the namespace"
  run --separate-stderr cube-logs read sb --root "$TMP/nsroot" --mount-ns "$TMP/not-a-namespace"
  assert_failure 3
  # pid:N, from the flag or from the node's config, with no flag at all.
  run cube-logs read sb --root "$TMP/nsroot" --mount-ns "pid:$holder"
  assert_output "inside the namespace"
  printf '[logs]\nmount_ns = "pid:%s"\n' "$holder" >"$CUBE_CONFIG"
  run cube-logs read sb --root "$TMP/nsroot"
  assert_output "inside the namespace"
  # The working directory survives setns, so a relative --root means the same path there.
  run bash -c "cd '$TMP' && cube-logs read sb --root nsroot"
  assert_output "inside the namespace"
  # unit:NAME asks systemd for the unit's main PID (a stand-in systemctl here: no systemd in CI).
  mkdir -p "$TMP/fakebin"
  printf '#!/bin/sh\n[ "$*" = "show --property=MainPID --value cubelet.service" ] || exit 1\necho %s\n' "$holder" \
    >"$TMP/fakebin/systemctl"
  printf '#!/bin/sh\necho 0\n' >"$TMP/fakebin/systemctl-stopped"
  chmod +x "$TMP/fakebin"/*
  PATH="$TMP/fakebin:$PATH" run cube-logs read sb --root "$TMP/nsroot" --mount-ns unit:cubelet.service
  assert_output "inside the namespace"
  mv "$TMP/fakebin/systemctl-stopped" "$TMP/fakebin/systemctl"
  PATH="$TMP/fakebin:$PATH" run --separate-stderr cube-logs read sb --root "$TMP/nsroot" --mount-ns unit:cubelet.service
  assert_failure 3
  [[ "$stderr" == *"unit cubelet.service has no running main process"* ]]
  for bad in pid:0 pid:12x pid: "unit:-rf" "unit:a b" relative/path; do
    run --separate-stderr cube-logs read sb --root "$TMP/nsroot" --mount-ns "$bad"
    assert_failure 2
  done
  printf '[logs]\nmount_ns = "pid:nope"\n' >"$CUBE_CONFIG"
  run --separate-stderr cube-logs read sb --root "$TMP/nsroot"
  assert_failure 2
  [[ "$stderr" == *'[logs] mount_ns: "nope" is not a process ID'* ]]
}

@test "read: the reader runs under seccomp once its files are open; --no-seccomp skips it" {
  ! ldd "$CUBE_BUILD/bin/cube-logs" | grep -q libasan || skip "sanitizer build (make SAN=1) loads no filter"
  make_log sb
  cube-logs read sb --root "$ROOT" --follow >/dev/null &
  pid=$!
  BG_PIDS=$pid
  wait_for grep -q $'^Seccomp:\t2' "/proc/$pid/status"
  kill "$pid"
  cube-logs read sb --root "$ROOT" --follow --no-seccomp >"$TMP/out" &
  pid=$!
  BG_PIDS=$pid
  # The reader confines itself before it prints: once its lines are out, it would have.
  wait_for lines_at_least "$TMP/out" 100
  grep -q $'^Seccomp:\t0' "/proc/$pid/status"
}

# A CRI log of "line 1" … "line 10" in sb/stdout, and a follower of it printing to $TMP/out.
follow_ten_lines() {
  mkdir -p "$ROOT/sb"
  "$GEN" "$ROOT/sb/stdout" stdout 1 10 1800000000 10
  cube-logs read sb --root "$ROOT" --follow --all >"$TMP/out" &
  BG_PIDS=$!
  wait_for lines_at_least "$TMP/out" 10
}

# The follower printed "line 1" … "line N", each once, and nothing more: a marker line N+1 appended
# after them is printed next, so anything printed twice would be in the output before it.
printed_each_once() {
  local marker=$(($1 + 1))
  wait_for lines_at_least "$TMP/out" "$1"
  "$GEN" "$TMP/marker" stdout "$marker" "$marker" 1800000000 10
  cat "$TMP/marker" >>"$ROOT/sb/stdout"
  wait_for grep -qx "line $marker" "$TMP/out"
  seq 1 "$marker" | sed 's/^/line /' | cmp - "$TMP/out"
}

@test "read: --follow survives copytruncate and an outside rename rotation, each line once" {
  follow_ten_lines
  # copytruncate, as logrotate does it
  cp "$ROOT/sb/stdout" "$ROOT/sb/stdout.1"
  : >"$ROOT/sb/stdout"
  "$GEN" "$TMP/more" stdout 11 20 1800000000 10
  cat "$TMP/more" >>"$ROOT/sb/stdout"
  wait_for lines_at_least "$TMP/out" 20
  # rename rotation
  mv "$ROOT/sb/stdout.1" "$ROOT/sb/stdout.2"
  mv "$ROOT/sb/stdout" "$ROOT/sb/stdout.1"
  "$GEN" "$ROOT/sb/stdout" stdout 21 30 1800000000 10
  printed_each_once 30
}

@test "read: --follow notices a copytruncate it slept through, shorter or longer than before" {
  # The follower is stopped while the file is truncated and written again, so it wakes to a file
  # that only its remembered bytes can tell apart from an appended one.
  follow_ten_lines
  kill -STOP "$BG_PIDS"
  "$GEN" "$ROOT/sb/stdout" stdout 11 12 1800000000 10 # shorter than what was read
  kill -CONT "$BG_PIDS"
  wait_for lines_at_least "$TMP/out" 12
  kill -STOP "$BG_PIDS"
  "$GEN" "$ROOT/sb/stdout" stdout 13 40 1800000000 10 # longer: past the old end, other bytes there
  kill -CONT "$BG_PIDS"
  printed_each_once 40
}

@test "read: --raw --tail/--head on plain files equal GNU tail/head byte for byte" {
  gen="$TMP/gen"
  mkdir -p "$gen"
  : >"$gen/empty"
  printf 'no trailing newline' >"$gen/nonl"
  printf 'a\nb\nc' >"$gen/nonl2"
  printf 'one\r\ntwo\r\n\r\nthree\r\n' >"$gen/crlf"
  printf '\n\n\n' >"$gen/blank"
  python3 -c '
import random, sys
random.seed(4)
w = sys.stdout.buffer.write
for i in range(3000):
    w(b"L" * random.choice([0, 1, 80, 5000, 70000, 2000000 if i % 1000 == 0 else 10]) + b"\n")' >"$gen/long"
  head -c 3000000 /dev/urandom >"$gen/binary"
  seq 1 200000 >"$gen/seq"
  for f in "$gen"/*; do
    id=$(basename "$f")
    mkdir -p "$ROOT/$id"
    cp "$f" "$ROOT/$id/stdout"
    for n in 0 1 2 3 10 100 1000 150000 1000000; do
      cube-logs read "$id" --root "$ROOT" --raw --tail "$n" >"$TMP/ours"
      tail -n "$n" "$f" >"$TMP/gnu"
      cmp "$TMP/gnu" "$TMP/ours" || fail "$id --tail $n differs from tail -n $n"
      cube-logs read "$id" --root "$ROOT" --raw --head "$n" >"$TMP/ours"
      head -n "$n" "$f" >"$TMP/gnu"
      cmp "$TMP/gnu" "$TMP/ours" || fail "$id --head $n differs from head -n $n"
    done
    cube-logs read "$id" --root "$ROOT" --raw --all | cmp - "$f"
  done
}

@test "config: keys of one verb never warn in another; an unknown key warns" {
  make_log sb
  printf '[logs]\nroot = "%s"\nmax_files = 3\nno_such_key = 1\n' "$ROOT" >"$CUBE_CONFIG"
  run --separate-stderr cube-logs read sb --tail 1
  assert_success
  assert_output "line 300"
  [[ "$stderr" == *"unknown key 'logs.no_such_key'"* ]]
  [[ "$stderr" != *max_files* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/f" -- true
  assert_success
  [[ "$stderr" != *"'root'"* && "$stderr" != *max_files* ]]
}

@test "memory stays bounded whatever the line length (64 MiB line through forward and read)" {
  ! ldd "$CUBE_BUILD/bin/cube-logs" | grep -q libasan || skip "sanitizer build: RSS is the sanitizer's"
  require_command /usr/bin/time
  head -c $((64 << 20)) /dev/zero | tr '\0' 'x' >"$TMP/line"
  echo >>"$TMP/line"
  /usr/bin/time -f %M -o "$TMP/rss" cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 <"$TMP/line"
  [ "$(cat "$TMP/rss")" -lt 32768 ] || fail "forward used $(cat "$TMP/rss") KiB"
  /usr/bin/time -f %M -o "$TMP/rss" cube-logs read sb --root "$ROOT" --all >"$TMP/out"
  [ "$(cat "$TMP/rss")" -lt 32768 ] || fail "read used $(cat "$TMP/rss") KiB"
  cmp "$TMP/line" "$TMP/out"
  mkdir -p "$ROOT/plain"
  cp "$TMP/line" "$ROOT/plain/stdout"
  /usr/bin/time -f %M -o "$TMP/rss" cube-logs read plain --root "$ROOT" --tail 1 >"$TMP/out"
  [ "$(cat "$TMP/rss")" -lt 32768 ] || fail "read of a plain 64 MiB line used $(cat "$TMP/rss") KiB"
  cmp "$TMP/line" "$TMP/out"
}

@test "config: prints the [logs] settings and their sources" {
  printf '[logs]\nmax_files = 9\n' >"$CUBE_CONFIG"
  run cube-logs config -o json
  assert_success
  [ "$(jq -r '.[] | select(.key == "logs.max_files") | .value + " " + .source' <<<"$output")" = "9 config" ]
  [ "$(jq -r '.[] | select(.key == "logs.root") | .source' <<<"$output")" = "default" ]
}

@test "read: options may come before the sandbox ID in the short form" {
  mkdir -p "$TMP/root/sb1"
  printf '2026-11-29T10:00:00.000000001Z stdout F one\n2026-11-29T10:00:00.000000002Z stdout F two\n' \
    >"$TMP/root/sb1/stdout"
  for args in "--root $TMP/root --tail 1 sb1" "--tail 1 --root $TMP/root sb1" "-q --root=$TMP/root sb1 -t1" \
    "sb1 --root $TMP/root --tail 1" "read sb1 --root $TMP/root --tail 1"; do
    run --separate-stderr cube-logs $args
    assert_success
    assert_output two
  done
  run --separate-stderr cube-logs -q completion words
  assert_success
}

# --- broken and hostile files: gaps, torn records, times out of order ---------------------------------

# cri_line SECONDS TEXT: one CRI record at 2027-01-15T08:00:00Z + SECONDS.
cri_line() { printf '%s stdout F %s\n' "$(date -u -d "@$((1800000000 + $1))" +%Y-%m-%dT%H:%M:%S.000000000Z)" "$2"; }

@test "read: rotated files missing between others are named, the rest is printed, exit 1" {
  mkdir -p "$ROOT/sb"
  cri_line 1 one >"$ROOT/sb/stdout.4"
  cri_line 2 two >"$ROOT/sb/stdout.1"
  cri_line 3 three >"$ROOT/sb/stdout"
  run --separate-stderr cube-logs read sb --root "$ROOT" --all
  assert_failure 1
  [ "$output" = "$(printf 'one\ntwo\nthree')" ]
  [[ "$stderr" == *"$ROOT/sb/stdout.2 is missing"* ]]
  [[ "$stderr" == *"$ROOT/sb/stdout.3 is missing"* ]]
  [[ "$stderr" == *"error: the log of sb is incomplete"* ]]
  # --tail and --head read across the gap too.
  run --separate-stderr cube-logs read sb --root "$ROOT" --head 1
  assert_failure 1
  [ "$output" = one ]
}

@test "forward: a start after a crash mid-rotation closes the gap; kill -9 under rotation loses no order" {
  mkdir -p "$ROOT/sb"
  cri_line 1 one >"$ROOT/sb/stdout.3"
  cri_line 2 two >"$ROOT/sb/stdout.2"
  cri_line 3 three >"$ROOT/sb/stdout"
  echo four | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 4K --max-files 5 2>"$TMP/err"
  [ "$(cd "$ROOT/sb" && ls stdout*)" = "$(printf 'stdout\nstdout.1\nstdout.2')" ]
  grep -q "was missing (a rotation was cut short)" "$TMP/err"
  [ "$(cube-logs read sb --root "$ROOT" --all)" = "$(printf 'one\ntwo\nthree\nfour')" ]
  # The real thing: kill -9 at random moments of a fast rotation, restart, and read everything.
  rm -rf "$ROOT/sb"
  for i in $(seq 8); do
    seq $((i * 1000000)) $((i * 1000000 + 400000)) >"$TMP/in"
    cube-logs forward --bundle "$ROOT/sb" --stdout-fd 3 --max-size 4K --max-files 50 3<"$TMP/in" &
    pid=$!
    sleep "0.0$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || true
  done
  echo end | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 --max-size 4K --max-files 50
  run --separate-stderr cube-logs read sb --root "$ROOT" --all
  assert_success
  [ "$(echo "$output" | tail -1)" = end ]
  echo "$output" | head -n -1 | sort -n -c  # every line once, in order
}

@test "read: a record cut short (no newline) is not printed: named, exit 1; never glued to the next file" {
  mkdir -p "$ROOT/sb"
  { cri_line 1 one; cri_line 2 "torn two" | head -c 40; } >"$ROOT/sb/stdout.1"
  { cri_line 3 three; cri_line 4 "torn four" | head -c 20; } >"$ROOT/sb/stdout"
  run --separate-stderr cube-logs read sb --root "$ROOT" --all
  assert_failure 1
  [ "$output" = "$(printf 'one\nthree')" ]
  [[ "$stderr" == *"$ROOT/sb/stdout.1 ends in a record cut short (40 bytes"* ]]
  [[ "$stderr" == *"$ROOT/sb/stdout ends in a record cut short (20 bytes"* ]]
  run --separate-stderr cube-logs read sb --root "$ROOT" --tail 1 --raw
  assert_failure 1
  [ "$output" = "$(cri_line 3 three)" ]
  # A plain file's last line without a newline is a line (GNU tail counts it), not a torn record.
  printf 'plain one\nplain two' >"$ROOT/sb/stdout"
  rm "$ROOT/sb/stdout.1"
  run cube-logs read sb --root "$ROOT" --all
  assert_success
  [ "$output" = "$(printf 'plain one\nplain two')" ]
}

@test "forward: a full disk leaves whole records only; a restart removes a torn tail, with a warning" {
  [ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
  mkdir -p "$TMP/small"
  mount -t tmpfs -o size=64k tmpfs "$TMP/small" || skip "cannot mount tmpfs here"
  run --separate-stderr cube-logs forward --bundle "$TMP/small/sb" -- sh -c 'seq 1 100000'
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"cannot write $TMP/small/sb/stdout"*"No space left on device"* ]]
  [ "$(tail -c 1 "$TMP/small/sb/stdout" | od -An -c | tr -d ' ')" = '\n' ]
  run --separate-stderr cube-logs read sb --root "$TMP/small" --all
  assert_success
  [ "$(echo "$output" | tail -1)" -gt 1000 ]
  # A torn tail left by something else (a crash mid-write) is cut off at the next start.
  rm -f "$TMP/small/sb/stdout" "$TMP/small/sb/stderr"
  { cri_line 1 one; cri_line 2 two | head -c 33; } >"$TMP/small/sb/stdout"
  echo three | cube-logs forward --bundle "$TMP/small/sb" --stdout-fd 0 2>"$TMP/err"
  grep -q "ended in a record cut short (33 bytes without a newline): removed" "$TMP/err"
  run cube-logs read sb --root "$TMP/small" --all
  umount "$TMP/small"
  assert_success
  [ "$output" = "$(printf 'one\nthree')" ]
}

@test "forward: record times never go backwards: a clock behind the newest record is held, with a warning" {
  mkdir -p "$ROOT/sb"
  printf '2099-01-01T00:00:00.000000000Z stdout F from the future\n' >"$ROOT/sb/stdout"
  printf 'a\nb\n' | cube-logs forward --bundle "$ROOT/sb" --stdout-fd 0 -v 2>"$TMP/err"
  grep -q "the clock went back" "$TMP/err"
  grep -q "reads were stamped with a held time" "$TMP/err"
  cut -d' ' -f1 "$ROOT/sb/stdout" | sort -c
  [ "$(tail -1 "$ROOT/sb/stdout" | cut -d' ' -f1)" = 2099-01-01T00:00:00.000000000Z ]
}

@test "read: --since/--until on records out of time order filter every line, as awk would, with a warning" {
  mkdir -p "$ROOT/sb"
  # A clock stepped back twice under another writer; enough lines that a binary search would run.
  cri_lines() {  # cri_lines FROM TO: cri_line FROM … cri_line TO, in one process
    python3 -c 'import sys, datetime as d
for s in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    t = d.datetime.fromtimestamp(1800000000 + s, d.timezone.utc)
    print(t.strftime("%Y-%m-%dT%H:%M:%S.000000000Z") + " stdout F t%d" % s)' "$@"
  }
  { cri_lines 0 3000; cri_lines 1000 2000; cri_lines 500 4000; } >"$ROOT/sb/stdout"
  from=$(date -u -d @1800001500 +%Y-%m-%dT%H:%M:%SZ) to=$(date -u -d @1800002500 +%Y-%m-%dT%H:%M:%SZ)
  expect() { awk -v a="$from" -v b="$to" '{ t = substr($1, 1, 19) "Z"; if (t >= a && t <= b) print $4 }' "$ROOT/sb/stdout"; }
  run --separate-stderr cube-logs read sb --root "$ROOT" --since "$from" --until "$to"
  assert_success
  [ "$output" = "$(expect)" ]
  [[ "$stderr" == *"not in time order"* ]]
  [ "$(cube-logs read sb --root "$ROOT" --since "$from" --until "$to" --tail 7 2>/dev/null)" = "$(expect | tail -7)" ]
  [ "$(cube-logs read sb --root "$ROOT" --since "$from" --head 7 2>/dev/null)" = "$(awk -v a="$from" '{ t = substr($1, 1, 19) "Z"; if (t >= a) print $4 }' "$ROOT/sb/stdout" | head -7)" ]
  # In order, nothing is said.
  cri_lines 0 3000 >"$ROOT/sb/stdout"
  run --separate-stderr cube-logs read sb --root "$ROOT" --since "$from" --until "$to"
  assert_success
  [ -z "$stderr" ]
  [ "$(echo "$output" | wc -l)" = 1001 ]
}

@test "read and forward: empty and out-of-range values are exit 2 with the real limit" {
  make_log sb
  for f in --since --until --root --mount-ns; do
    run --separate-stderr cube-logs read sb --root "$ROOT" "$f" ''
    assert_failure 2
    [[ "$stderr" == *"$f: an empty value is not allowed"* ]] || fail "$f: $stderr"
  done
  for v in -1 99999999999999999999 0x10 ' 5' 5x 1e3; do
    run --separate-stderr cube-logs read sb --root "$ROOT" --tail "$v"
    assert_failure 2
    [[ "$stderr" == *--tail* ]] || fail "$v: $stderr"
  done
  run --separate-stderr cube-logs forward --bundle "$ROOT/x" --stdout-fd 0 --max-files 99999999999999999999
  assert_failure 2
  [[ "$stderr" == *"99999999999999999999 is too large (at most 1000)"* ]]
  run --separate-stderr cube-logs forward --bundle "$ROOT/x" --stdout-fd -1
  assert_failure 2
  run --separate-stderr cube-logs forward --bundle "$ROOT/x" --stdout-fd 0 --max-size 99999999999999999999
  assert_failure 2
  [[ "$stderr" == *"value too large"* ]]
}
