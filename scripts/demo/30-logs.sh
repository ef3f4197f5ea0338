#!/usr/bin/env bash
# cube-logs: forward a chatty process into CRI files with rotation, then read them back.
set -euo pipefail
logs="$DEMO_DIR/logs"

say "cube-logs: run a chatty process; its stdout and stderr go to CRI files, rotating at 8K, 4 files kept"
run cube-logs forward --bundle "$logs/sb-demo" --max-size 8K --max-files 4 -- \
  sh -c 'for i in $(seq 1 400); do echo "request $i served"; [ $((i % 100)) = 0 ] && echo "checkpoint $i" >&2; [ $((i % 20)) = 0 ] && sleep 0.02; done; exit 3' ||
  echo "(the process exited $?; forward passes its status on)"
run ls -l "$logs/sb-demo"
run head -2 "$logs/sb-demo/stdout"

say "The last 5 lines (the default is 100), read across the rotated files; stderr; both streams merged"
run cube-logs sb-demo --root "$logs" --tail 5
run cube-logs sb-demo --root "$logs" --stderr
run cube-logs sb-demo --root "$logs" --stream all --tail 3 --timestamps

say "--since: a binary search by time, here from the time of a line in the middle"
mid=$(sed -n 10p "$logs/sb-demo/stdout.1" | cut -d' ' -f1)
run cube-logs sb-demo --root "$logs" --since "$mid" --head 3 --timestamps

say "--follow: a writer appends while we follow (stopped by a timeout so the demo ends)"
(for i in 1 2 3; do sleep 0.3; echo "late line $i"; done) |
  cube-logs forward --bundle "$logs/sb-demo" --stdout-fd 0 --max-size 8K --max-files 4 &
run timeout 2 cube-logs sb-demo --root "$logs" --follow --tail 2 || true
wait

say "Unsafe paths are refused: a symlink planted as a log file"
mkdir -p "$logs/sb-evil" && ln -s /etc/shadow "$logs/sb-evil/stdout"
run cube-logs sb-evil --root "$logs" || true
