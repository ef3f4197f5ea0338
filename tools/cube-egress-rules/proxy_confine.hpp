// cube::egress proxy_confine — what `serve` gives up once its listeners are bound and its first
// snapshot is loaded: every capability, and every system call outside its allowlist.
//
// Contract (cube-egress-rules(1) CONFINEMENT):
// - drop_capabilities(): the bounding set is emptied (when CAP_SETPCAP allows; a unit's
//   CapabilityBoundingSet= does it otherwise), securebits are set so that the process, which
//   stays uid 0, cannot gain capabilities back through execve, then the effective, permitted,
//   inheritable and ambient sets are cleared. Nothing the running proxy does needs one: its
//   listeners are bound, accepted sockets inherit IP_TRANSPARENT, upstream connections are
//   ordinary ones, and the files it opens later (the audit log, the state file) are root's own.
//   Throws Error when the effective set is not empty afterwards.
// - proxy_allowlist(): the calls of the event loop, the relay (splice, pipes), upstream connects
//   and the resolver (a thread, the hosts and resolver files, DNS sockets), the audit file
//   (open, write, rename), the state file (SQLite's reads and locks), sd_notify and clean exit.
//   Others fail with EPERM (a missed call shows up as an error naming what failed, not a dead
//   proxy). Applies to the calling thread and the threads it starts later: call it before the
//   event loop's threads start.
#pragma once

#include "seccomp.hpp"

namespace cube::egress {

void drop_capabilities();
seccomp::Filter proxy_allowlist();

}  // namespace cube::egress
