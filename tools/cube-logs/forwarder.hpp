// cube::logs::forward — the forwarder: a container's stdout and stderr in, `<bundle>/stdout` and
// `<bundle>/stderr` in the CRI format out (doc/cube-logs.md, "Forwarding").
//
// Contract:
// - Exactly one input: inherited fds (stdout_fd and/or stderr_fd), a Unix stream socket or a vsock
//   address carrying the framed multiplex (Demux), or a command run as a Child.
// - The bundle directory is created 0700 when missing; both files are created 0600 and appended to.
// - Signals: SIGTERM/SIGINT drain what the inputs hold, write it, fsync and return 0 (a command gets
//   the same signal); SIGUSR1 writes what is complete, fsyncs and stops reading until SIGUSR2.
// - Returns the status the tool exits with: 0, or the command's status (128 + signal when killed).
#pragma once

#include "log_file.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::logs {

struct VsockAddress {
  uint32_t cid = 0;
  uint32_t port = 0;
};
// "CID:PORT" → address; throws Error(usage) naming --vsock.
VsockAddress parse_vsock(const std::string& text);

struct ForwardOptions {
  std::string bundle;
  Rotation rotation;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string socket_path;
  std::optional<VsockAddress> vsock;
  std::vector<std::string> command;
};

// Checks that exactly one input is named and the rotation makes sense; throws Error(usage).
void check_options(const ForwardOptions& options);
int forward(const ForwardOptions& options);

}  // namespace cube::logs
