// cube::logs::cmd — the command layer of cube-logs: one Args struct and one handler per verb.
// main.cpp declares the command line and fills the Args; a handler reads the [logs] settings,
// turns its Args into the forwarder's or the reader's options and runs it.
#pragma once

#include "context.hpp"
#include "settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::logs::cmd {

struct ForwardArgs {
  std::string bundle;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string socket;
  std::string vsock;  // CID:PORT
  std::vector<std::string> command;
  SettingFlags settings;  // --max-size, --max-files
};

struct ReadArgs {
  std::string id;
  std::optional<int64_t> tail, head;
  bool all = false;
  bool stderr_only = false;       // -e
  std::string stream = "stdout";  // --stream
  std::string since, until;
  bool follow = false;
  bool timestamps = false;
  bool raw = false;
  bool template_mode = false;
  std::string root;
  std::optional<std::string> mount_ns;  // falls back to [logs] mount_ns
  bool no_seccomp = false;
};

// Returns the status the tool exits with: 0, or the forwarded command's (128 + N when signal N
// killed it).
int forward(cli::Context& ctx, const ForwardArgs& a);
void read(cli::Context& ctx, const ReadArgs& a);
void config(cli::Context& ctx);

}  // namespace cube::logs::cmd
