#!/usr/bin/env bats
# The node's systemd units as `make install` puts them in a DESTDIR: each passes `systemd-analyze
# verify` against the installed binaries, and their dependencies put a node's services in the order
# it needs them (read from the unit files: these machines do not run systemd as PID 1).
load helpers

# One install for the file (it strips every binary: seconds on a busy machine).
setup_file() {
  export DEST="$BATS_FILE_TMPDIR/root"
  cube_make -s install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
}

setup() {
  require_command systemd-analyze
  cube_setup
  UNITS="$DEST/usr/local/lib/systemd/system"
}

teardown() { cube_teardown; }

# A root where verify finds what the units lean on: systemd's own units (sysinit.target and the
# rest), the shell, and kill (cube-egress-proxy.service's reload).
verify_root() {
  mkdir -p "$DEST/lib/systemd" "$DEST/bin"
  cp -a /lib/systemd/system "$DEST/lib/systemd/"
  cp /bin/sh /bin/true /bin/kill "$DEST/bin/"
}

# Edges "A B" (A is ordered before B) from every After= and Before= of the installed units.
order_edges() {
  awk '{ u = FILENAME; sub(/.*\//, "", u) }
    /^After=/ { sub(/^After=/, ""); for (i = 1; i <= NF; i++) print $i, u }
    /^Before=/ { sub(/^Before=/, ""); for (i = 1; i <= NF; i++) print u, $i }' "$UNITS"/*
}
# before A B: A is ordered before B, directly or through other units.
before() {
  awk -v from="$1" -v to="$2" '
    { next_of[$1] = next_of[$1] " " $2 }
    END {
      queue[1] = from; n = 1; seen[from] = 1
      for (i = 1; i <= n; i++) {
        k = split(next_of[queue[i]], vs, " ")
        for (j = 1; j <= k; j++) {
          if (vs[j] == to) exit 0
          if (!seen[vs[j]]++) queue[++n] = vs[j]
        }
      }
      exit 1
    }' "$EDGES" || fail "$1 is not ordered before $2"
}
key_has() { # key_has UNIT KEY VALUE: one of UNIT's KEY= lines names VALUE
  sed -n "s/^$2=//p" "$UNITS/$1" | tr ' ' '\n' | grep -qx -- "$3" || fail "$1 has no $2=$3"
}

@test "make install puts cube-sandbox, the guest builder and every node unit in place" {
  [ -x "$DEST/usr/local/bin/cube-sandbox" ]
  [ -x "$DEST/usr/local/lib/cube/guest/build-initramfs" ]
  [ -f "$DEST/usr/local/lib/cube/guest/init" ]
  [ -f "$DEST/usr/local/share/man/man1/cube-sandbox.1" ]
  for u in cube-node.target cube-bpf-fs.service cube-tap-setup.service cube-tap-reconcile.service \
    cube-tap.socket cube-tap.service cube-egress-redirect.service cube-egress-apply.service \
    cube-egress-dns-relay.service cube-sandbox-reconcile.service cube-sandbox@.service \
    cube-sched-heartbeat.timer cube-versions-collect.timer; do
    [ -f "$UNITS/$u" ] || fail "$u is not installed"
  done
}

@test "every installed unit passes systemd-analyze verify against the installed paths" {
  verify_root
  cd "$UNITS"
  run systemd-analyze verify --man=no --root="$DEST" ./*.service ./*.socket ./*.timer ./*.target
  assert_success
  assert_output ''
  run systemd-analyze verify --man=no --root="$DEST" cube-sandbox@web1.service
  assert_success
  # And another PREFIX is written into the units.
  cube_make -s install DESTDIR="$TMP/opt" PREFIX=/opt/cube >/dev/null
  grep -q '^ExecStart=/opt/cube/bin/cube-tap -q setup$' "$TMP/opt/opt/cube/lib/systemd/system/cube-tap-setup.service"
  ! grep -rq /usr/local/ "$TMP/opt/opt/cube/lib/systemd/system/"
}

@test "the units start a node in the order it needs, and sandboxes after the node's network and egress" {
  EDGES="$TMP/edges"
  order_edges >"$EDGES"
  before cube-bpf-fs.service cube-tap-setup.service
  before cube-tap-setup.service cube-tap-reconcile.service
  before cube-tap-reconcile.service cube-tap.service
  before cube-tap.socket cube-tap.service
  before cube-tap-reconcile.service cube-egress-redirect.service
  before cube-egress-redirect.service cube-egress-apply.service
  before cube-egress-redirect.service cube-egress-dns-relay.service
  before cube-egress-apply.service cube-sandbox-reconcile.service
  before cube-sandbox-reconcile.service cube-node.target
  before cube-bpf-fs.service cube-sandbox@.service
  for u in cube-node.target cube-tap.socket cube-egress-apply.service cube-egress-proxy.service \
    cube-egress-dns-relay.service network-online.target; do
    before "$u" cube-sandbox@.service
  done
  key_has cube-tap-setup.service Requires cube-bpf-fs.service
  key_has cube-tap-reconcile.service Requires cube-tap-setup.service
  key_has cube-egress-dns-relay.service Requires cube-egress-redirect.service
  key_has cube-sandbox@.service Requires cube-node.target
  # The target pulls in every service of the node, the proxy (its own unit) and the timers.
  for u in cube-bpf-fs.service cube-tap-setup.service cube-tap-reconcile.service cube-tap.socket \
    cube-egress-redirect.service cube-egress-apply.service cube-egress-dns-relay.service \
    cube-egress-proxy.service cube-sandbox-reconcile.service cube-sched-heartbeat.timer \
    cube-versions-collect.timer; do
    key_has cube-node.target Wants "$u"
  done
  # The VMM is the sandbox unit's main process; down undoes the rest once it has ended.
  key_has cube-sandbox@.service KillMode mixed
  grep -q '^ExecStart=/usr/local/bin/cube-sandbox up $IMAGE --name %i --foreground $ARGS$' "$UNITS/cube-sandbox@.service"
  grep -q '^ExecStopPost=/usr/local/bin/cube-sandbox -q down %i$' "$UNITS/cube-sandbox@.service"
}
