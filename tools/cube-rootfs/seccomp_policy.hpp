// cube::rootfs lock-down of the build child, installed once set-up is done and before any archive
// byte is parsed (doc/cube-rootfs.md, "Hostile images").
//
// Contract:
// - Landlock (when the kernel has it): files may be opened for reading only under `readable`
//   (the image's files) and created or written only under `writable` (the store and work
//   directories); everything else is refused with EACCES. Without Landlock this part is skipped
//   with a debug line.
// - seccomp (libseccomp): an allowlist of the system calls reading archives and writing an image
//   needs; anything else — exec, sockets, ptrace, new processes, kill — kills the process with
//   SIGSYS. Threads may start (layers are read ahead on one). Installed last, with no_new_privs.
// - policy_text() renders the seccomp filter as readable PFC, for review and tests.
#pragma once

#include <string>
#include <vector>

namespace cube::rootfs {

void install_build_policy(const std::vector<std::string>& writable, const std::vector<std::string>& readable = {});
std::string policy_text();

}  // namespace cube::rootfs
