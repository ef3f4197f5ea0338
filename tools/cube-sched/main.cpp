// cube-sched: the whole command line. The handlers are in commands_*.cpp, the work in the modules.
#include "cli.hpp"
#include "commands.hpp"
#include "registry.hpp"

#include <climits>
#include <cstdint>
#include <string>

using namespace cube;
using namespace cube::sched;

namespace {

struct NodeVerbs {
  cmd::RegisterArgs reg;
  cmd::NodeArgs show, cordon, uncordon;
  cmd::RemoveArgs remove;
};

void add_register_verb(cli::Tool& tool, CLI::App* node, cmd::RegisterArgs& reg) {
  CLI::App* r = tool.verb(
      "register", "Register a node, or update its registration", [&] { cmd::node_register(tool, reg); }, node);
  r->add_option("id", reg.id, "Node ID")->required();
  r->add_option("--cpu", reg.cpu, "CPU quota: cores (16) or millicores (16000m)")->required()->type_name("QUANTITY");
  r->add_option("--mem", reg.mem, "Memory quota (64G)")->required()->type_name("SIZE");
  r->add_option("--instance-type", reg.instance_type, "Instance type")->type_name("TYPE");
  r->add_option("--zone", reg.zone, "Zone (label topology.kubernetes.io/zone)")->type_name("ZONE");
  r->add_option("--cluster-id", reg.cluster_id, "Cluster ID (label topology.kubernetes.io/cluster-id)")
      ->type_name("ID");
  r->add_option("--cpu-type", reg.cpu_type, "CPU type (label kubernetes.io/cpu-type)")->type_name("TYPE");
  r->add_option("--label", reg.labels, "Extra label KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  r->add_option("--max-sandboxes", reg.max_sandboxes, "Sandbox limit (0: [sched] max_sandboxes)")
      ->type_name("N")
      ->check(cli::integer(0, INT64_MAX));
  r->add_option("--address", reg.address, "The node's IP address")->type_name("IP");
}

void add_node_verbs(cli::Tool& tool, NodeVerbs& a) {
  CLI::App* node = tool.verb("node", "The node registry: register, list, show, remove, cordon, uncordon");
  add_register_verb(tool, node, a.reg);
  tool.verb(
      "list", "List nodes with health and capacity", [&] { cmd::node_list(tool); }, node);
  tool.verb(
          "show", "Show one node with its labels", [&] { cmd::node_show(tool, a.show); }, node)
      ->add_option("id", a.show.id, "Node ID")
      ->required();
  CLI::App* rm = tool.verb(
      "remove", "Remove a node", [&] { cmd::node_remove(tool, a.remove); }, node);
  rm->add_option("id", a.remove.id, "Node ID")->required();
  rm->add_flag("--force", a.remove.force, "Also drop the node's allocations");
  tool.verb(
          "cordon", "Stop placing on a node", [&] { cmd::node_cordon(tool, a.cordon); }, node)
      ->add_option("id", a.cordon.id, "Node ID")
      ->required();
  tool.verb(
          "uncordon", "Place on a node again", [&] { cmd::node_uncordon(tool, a.uncordon); }, node)
      ->add_option("id", a.uncordon.id, "Node ID")
      ->required();
}

void add_heartbeat_verb(cli::Tool& tool, cmd::HeartbeatArgs& hb) {
  CLI::App* h = tool.verb("heartbeat", "Report a node's health, CPU utilisation, free memory and disk usage",
                          [&] { cmd::heartbeat(tool, hb); });
  h->add_option("id", hb.id, "Node ID")->required();
  h->add_option("--cpu-util", hb.cpu_util, "CPU utilisation in percent (default: measured)")
      ->type_name("PCT")
      ->check(cli::real(0, 100));
  h->add_option("--mem-free", hb.mem_free, "Free memory (default: MemAvailable)")->type_name("SIZE");
  h->add_option("--disk-used", hb.disk_used,
                "Disk usage of the store in percent (default: measured at [sched] disk_path)")
      ->check(cli::real(0, 100))
      ->type_name("PCT");
  CLI::Option* ready = h->add_flag("--ready", hb.ready, "Report ready (the default)");
  h->add_flag("--not-ready", hb.not_ready, "Report not ready")->excludes(ready);
  h->add_option("--loop", hb.loop, "Report forever, every INTERVAL plus up to 50% jitter")->type_name("INTERVAL");
}

void add_place_verb(cli::Tool& tool, cmd::PlaceArgs& p) {
  CLI::App* v = tool.verb("place", "Choose a node for a sandbox; --commit records it", [&] { cmd::place(tool, p); });
  auto& q = p.request;
  v->add_option("--cpu", q.cpu, "CPU request (2, 2000m)")->type_name("QUANTITY");
  v->add_option("--mem", q.mem, "Memory request (4G)")->type_name("SIZE");
  v->add_option("--instance-type", q.instance_type, "Only nodes of this instance type")->type_name("TYPE");
  v->add_option("--selector", q.selector, "Node-affinity selector, a JSON array")->type_name("JSON");
  v->add_option("--annotation", q.annotations, "Request annotation KEY=VALUE (repeatable)")->type_name("KEY=VALUE");
  v->add_option("--sandbox", q.sandbox, "Sandbox ID (needed by --commit)")->type_name("ID");
  v->add_option("--template", q.template_id, "Only nodes with a READY, not STALE replica of this template")
      ->type_name("TEMPLATE");
  v->add_flag("--commit", p.commit, "Record the allocation atomically");
  v->add_flag("--explain", p.explain, "Show every node's filter result and score");
  v->add_option("--random-top", p.random_top, "Pick uniformly among the best N")
      ->type_name("N")
      ->check(cli::integer(0, INT64_MAX));
  CLI::Option* batch = v->add_flag("--batch", p.batch, "Read JSON Lines requests on stdin, write decisions");
  for (const char* name :
       {"--cpu", "--mem", "--instance-type", "--selector", "--annotation", "--sandbox", "--template", "--explain"})
    batch->excludes(v->get_option(name));
  v->callback([v, &p] {
    if (!p.batch && (v->count("--cpu") == 0 || v->count("--mem") == 0))
      throw CLI::RequiredError("--cpu and --mem (or --batch)");
  });
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-sched", "Placement: node registry, heartbeats, overcommit, affinity, atomic allocation");
  tool.cluster_option();
  NodeVerbs node;
  add_node_verbs(tool, node);
  cmd::HeartbeatArgs heartbeat;
  add_heartbeat_verb(tool, heartbeat);
  cmd::PlaceArgs place;
  add_place_verb(tool, place);
  cmd::ReleaseArgs release;
  tool.verb("release", "Free a sandbox's allocation", [&] { cmd::release(tool, release); })
      ->add_option("sandbox", release.sandbox, "Sandbox ID")
      ->required();
  cmd::ReleaseArgs started;
  tool.verb("started", "Mark a placed sandbox as started: it no longer counts toward create_limit",
            [&] { cmd::started(tool, started); })
      ->add_option("sandbox", started.sandbox, "Sandbox ID")
      ->required();
  CLI::App* alloc = tool.verb("alloc", "Recorded allocations");
  cmd::AllocListArgs alloc_list;
  tool.verb(
          "list", "List allocations", [&] { cmd::alloc_list(tool, alloc_list); }, alloc)
      ->add_option("--node", alloc_list.node, "Only this node's")
      ->type_name("ID");
  tool.verb("config", "Print the effective [sched] settings and their sources", [&] { cmd::config(tool); });
  tool.migrate_verb(cluster_tables());
  return tool.run(argc, argv);
}
