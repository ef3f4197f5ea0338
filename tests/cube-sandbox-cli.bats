#!/usr/bin/env bats
# scripts/cube-sandbox's command line, config and refusals: nothing here needs root or a guest.
load helpers

SANDBOX_SH="$CUBE_ROOT/scripts/cube-sandbox"

setup() { cube_setup; }
teardown() { cube_teardown; }

@test "cube-sandbox: every option it parses is in its man page, and the page names no other" {
  grep -oE '^ +(-[a-z] \| )?--[a-z-]+\)' "$SANDBOX_SH" | grep -oE -- '--[a-z-]+' | sort -u >"$TMP/code"
  sed -n '/^# OPTIONS/,/^# CONFIGURATION/p' "$CUBE_ROOT/man/cube-sandbox.1.scd" | grep -oE '\*--[a-z0-9-]+' |
    tr -d '*' | sort -u >"$TMP/man"
  run comm -3 "$TMP/code" "$TMP/man"
  [ -z "$output" ] || fail "options in the script only (left) or the man page only (right): $output"
}

@test "cube-sandbox config: [sandbox] keys are read with their source, an unknown one warns once, and no tool warns" {
  printf '[sandbox]\nvmm = "my-vmm --tap-fd 3 \\"{disk}\\""  # a comment\nstop_timeout = 9\nbogus = 1\n[tap]\nmtu = 1500\n' \
    >"$CUBE_CONFIG"
  run --separate-stderr "$SANDBOX_SH" -o json config
  assert_success
  [ "$(echo "$output" | jq -r '.[] | select(.key == "sandbox.vmm") | .value')" = 'my-vmm --tap-fd 3 "{disk}"' ]
  [ "$(echo "$output" | jq -r '.[] | select(.key == "sandbox.stop_timeout") | .source')" = config ]
  [ "$(echo "$output" | jq -r '.[] | select(.key == "sandbox.run_dir") | .value')" = /run/cube/sandbox ]
  [ "$stderr" = "cube-sandbox: warning: config file $CUBE_CONFIG: unknown key 'sandbox.bogus' (ignored)" ]
  # Every tool knows the table: none warns about [sandbox].
  for t in cube-tap cube-logs cube-sched cube-rootfs cube-versions cube-egress-rules; do
    run --separate-stderr "$t" config
    [[ "$stderr" != *sandbox* ]] || fail "$t warns: $stderr"
  done
}

@test "cube-sandbox: bad input is exit 2 and names what is wrong; an unknown sandbox is exit 3" {
  run --separate-stderr "$SANDBOX_SH" up img
  assert_failure 2
  [[ "$stderr" == *"--name SB is required"* ]]
  run --separate-stderr "$SANDBOX_SH" up img --name ../x
  assert_failure 2
  [[ "$stderr" == *"is not path-safe"* ]]
  run --separate-stderr "$SANDBOX_SH" up img --name sb --mem lots
  assert_failure 2
  [[ "$stderr" == *"--mem: 'lots' is not a size"* ]]
  run --separate-stderr "$SANDBOX_SH" up img --name sb --cpu x2
  assert_failure 2
  run --separate-stderr "$SANDBOX_SH" -o yaml list
  assert_failure 2
  run --separate-stderr "$SANDBOX_SH" frobnicate
  assert_failure 2
  printf '[sandbox]\nrun_dir = "%s"\n' "$TMP/run" >"$CUBE_CONFIG"
  run --separate-stderr "$SANDBOX_SH" down nosuch
  assert_failure 3
  [[ "$stderr" == *"sandbox nosuch not found"* ]]
  run "$SANDBOX_SH" -o json list
  assert_success
  assert_output '[]'
}

@test "cube-sandbox: the guest's config comes from the image config cube-rootfs recorded, quoted for the shell" {
  require_command umoci
  umoci init --layout "$TMP/img" && umoci new --image "$TMP/img:x"
  umoci config --image "$TMP/img:x" --config.entrypoint /bin/sh --config.cmd -c \
    --config.cmd "echo 'it'\"'\"'s \$HOME; rm -rf /'" --config.env 'A=b c' --config.workingdir /srv >/dev/null
  printf '[rootfs]\nstore = "%s"\ncluster_ca = "none"\n' "$TMP/store" >"$CUBE_CONFIG"
  tpl=$(cube-rootfs build "oci:$TMP/img:x" -o json | jq -r .template_id)
  # The functions are the script's own, run alone: the first line names the template and its disk.
  run bash -c "source <(sed -n '/^template_sql() {/,/^}/p;/^template_lookup() {/,/^}/p' '$SANDBOX_SH')
    state_db=\$CUBE_STATE
    template_lookup \"t.template_id = '$tpl'\""
  assert_success
  [[ "${lines[0]}" == "$tpl $TMP/store/rfs-"*.ext4 ]]
  echo "$output" | tail -n +2 >"$TMP/config"
  # What the guest's init does with it: the arguments and environment arrive intact.
  run sh -c '. "$1"; printf "[%s]\n" "$@"; echo "A=$A workdir=$workdir"' sh "$TMP/config"
  assert_output "[/bin/sh]
[-c]
[echo 'it'\"'\"'s \$HOME; rm -rf /']
A=b c workdir=/srv"
}
