// cube::tap commands — one handler per verb: turn the flags into module calls and print the result
// through common/output. main.cpp only wires flags to these.
#pragma once

#include "context.hpp"
#include "settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::tap::cmd {

struct SetupArgs {
  SettingFlags flags;
};

struct TeardownArgs {
  bool force = false;
};

struct EnsureArgs {
  std::string sandbox;
  std::vector<std::string> ports;  // CONTAINER[:HOST]
};

struct ReleaseArgs {
  std::string sandbox;
  bool destroy = false;
};

struct SandboxArgs {
  std::string sandbox;
};

struct PoolArgs {
  int64_t count = 0;
};

struct ServeArgs {
  SettingFlags flags;
};

struct GetFdArgs {
  std::string sandbox;
  std::string name;
  std::optional<std::string> timeout;
  SettingFlags flags;
  bool exec = false;
  std::vector<std::string> command;  // what follows --exec
};

struct ReconcileArgs {
  bool dry_run = false;
};

// The [tap] settings, unknown keys warned about once.
Settings settings(cli::Context& ctx, const SettingFlags& flags = {});

void setup(cli::Context& ctx, const SetupArgs& a);
void teardown(cli::Context& ctx, const TeardownArgs& a);
void ensure(cli::Context& ctx, const EnsureArgs& a);
void release(cli::Context& ctx, const ReleaseArgs& a);
void list(cli::Context& ctx);
void show(cli::Context& ctx, const SandboxArgs& a);
void ports(cli::Context& ctx, const SandboxArgs& a);
void config(cli::Context& ctx);

void pool_warm(cli::Context& ctx, const PoolArgs& a);
void pool_status(cli::Context& ctx);
void pool_shrink(cli::Context& ctx, const PoolArgs& a);

void serve(cli::Context& ctx, const ServeArgs& a);
void get_fd(cli::Context& ctx, const GetFdArgs& a);
void reconcile(cli::Context& ctx, const ReconcileArgs& a);

void bpf_status(cli::Context& ctx);
void bpf_stats(cli::Context& ctx, const SandboxArgs& a);

}  // namespace cube::tap::cmd
