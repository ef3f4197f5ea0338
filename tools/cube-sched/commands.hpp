// cube::sched commands — the command layer: runs a verb's module calls and prints the result
// through common/output. main.cpp only wires flags to these.
#pragma once

#include "context.hpp"
#include "policy.hpp"
#include "request.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cube::sched::cmd {

struct RegisterArgs {
  std::string id, cpu, mem, instance_type, zone, cluster_id, cpu_type, address;
  std::vector<std::string> labels;  // KEY=VALUE
  int64_t max_sandboxes = 0;
};

struct HeartbeatArgs {
  std::string id;
  std::optional<double> cpu_util;
  std::optional<std::string> mem_free;
  bool ready = false;  // the default anyway; the flag exists for scripts that say it
  bool not_ready = false;
  std::optional<std::string> loop;
};

struct PlaceArgs {
  RequestText request;
  bool commit = false, explain = false, batch = false;
  size_t random_top = 0;
};

// The [sched] settings, unknown keys warned about.
Policy policy(cli::Context& tool);

void node_register(cli::Context& tool, const RegisterArgs& a);
void node_list(cli::Context& tool);
void node_show(cli::Context& tool, const std::string& id);
void node_remove(cli::Context& tool, const std::string& id, bool force);
void node_cordon(cli::Context& tool, const std::string& id, bool cordoned);
void heartbeat(cli::Context& tool, const HeartbeatArgs& a);
void place(cli::Context& tool, const PlaceArgs& a);
void release(cli::Context& tool, const std::string& sandbox);
void alloc_list(cli::Context& tool, const std::string& node);
void show_config(cli::Context& tool);

}  // namespace cube::sched::cmd
