// cube::logs mount namespace — which mount namespace the reader enters, and entering it.
//
// Upstream's reader always enters the container runtime's mount namespace; ours enters the one the
// flag or `[logs] mount_ns` names (doc/cube-logs.md, "The mount namespace"):
//   ""              stay in this one
//   /path           a mount namespace file, like /proc/PID/ns/mnt or a bind mount of one
//   pid:N           /proc/N/ns/mnt
//   unit:NAME       the main process of systemd unit NAME (systemctl show -p MainPID)
#pragma once

#include <string>
#include <string_view>

namespace cube::logs {

// The namespace file `spec` names; "" for "". Error(usage) for a malformed spec naming `origin`
// (the flag or config key), Error(not_found) for a unit that is not running.
std::string resolve_mount_ns(std::string_view spec, std::string_view origin);

// setns into the namespace file, then back into the working directory of the same path, so that a
// relative --root means there what it meant here.
void enter_mount_ns(const std::string& path);

}  // namespace cube::logs
