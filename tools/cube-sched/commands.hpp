// cube::sched::cmd — one Args struct and one handler per verb. main.cpp fills the Args from the
// command line (the flags as given, unparsed); a handler checks them, calls the modules and prints
// their results through common/output. The modules never print.
#pragma once

#include "cluster.hpp"
#include "context.hpp"
#include "request.hpp"
#include "settings.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cube::sched::cmd {

struct RegisterArgs {
  std::string id, cpu, mem, instance_type, zone, cluster_id, cpu_type, address;
  std::vector<std::string> labels;  // KEY=VALUE
  int64_t max_sandboxes = 0;        // 0: [sched] max_sandboxes
};

// node show, node cordon and node uncordon: the node they name.
struct NodeArgs {
  std::string id;
};

struct RemoveArgs {
  std::string id;
  bool force = false;
};

struct HeartbeatArgs {
  std::string id;
  std::optional<double> cpu_util;
  std::optional<std::string> mem_free;
  std::optional<double> disk_used;
  bool ready = false;  // the default anyway; the flag exists for scripts that say it
  bool not_ready = false;
  std::optional<std::string> loop;
};

struct PlaceArgs {
  RequestText request;
  bool commit = false, explain = false, batch = false;
  size_t random_top = 0;
};

// release and started: the sandbox they name.
struct ReleaseArgs {
  std::string sandbox;
};

struct AllocListArgs {
  std::string node;  // "": every node's
};

// The [sched] settings from ctx's config file, for the handlers of commands_*.cpp.
Settings settings(cli::Context& ctx);
// The cluster store cube-sched's tables live in: --cluster, else $CUBE_CLUSTER_URL, else [state]
// cluster, else the state file (Context::cluster_choice).
cluster::Target cluster_target(cli::Context& ctx);
std::unique_ptr<cluster::Store> open_cluster(cli::Context& ctx, cluster::Access access);

void node_register(cli::Context& ctx, const RegisterArgs& a);
void node_list(cli::Context& ctx);
void node_show(cli::Context& ctx, const NodeArgs& a);
void node_remove(cli::Context& ctx, const RemoveArgs& a);
void node_cordon(cli::Context& ctx, const NodeArgs& a);
void node_uncordon(cli::Context& ctx, const NodeArgs& a);
void heartbeat(cli::Context& ctx, const HeartbeatArgs& a);
void place(cli::Context& ctx, const PlaceArgs& a);
void release(cli::Context& ctx, const ReleaseArgs& a);
void started(cli::Context& ctx, const ReleaseArgs& a);
void alloc_list(cli::Context& ctx, const AllocListArgs& a);
void config(cli::Context& ctx);

}  // namespace cube::sched::cmd
