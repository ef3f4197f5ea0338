// cube-tap: the command line. The work lives in node_setup, lifecycle, pool, fd_server and
// reconcile; the handlers in commands*.cpp.
#include "cli.hpp"
#include "commands.hpp"

#include <climits>
#include <cstdint>

#include <cstring>

using namespace cube;
using namespace cube::tap;

namespace {

void add_node_verbs(cli::Tool& tool, cmd::SetupArgs& setup, cmd::TeardownArgs& teardown) {
  CLI::App* s = tool.verb("setup", "Prepare this node: gateway on lo, forwarding, ephemeral ports, masquerade",
                          [&] { cmd::setup(tool, setup); });
  s->add_option("--uplink", setup.flags.uplink, "The uplink interface (exactly one IPv4 address)")->type_name("IF");
  s->add_option("--cidr", setup.flags.cidr, "Sandbox address pool, /8 to /30 (default 192.168.0.0/18)")
      ->type_name("CIDR");
  s->add_option("--mtu", setup.flags.mtu, "TAP MTU, at most the uplink's (default 1500)")
      ->type_name("N")
      ->check(cli::integer(68, 65521));
  tool.verb("teardown", "Undo setup: every TAP, the masquerade, the gateway address, the sysctls",
            [&] { cmd::teardown(tool, teardown); })
      ->add_flag("--force", teardown.force, "Also destroy TAPs that sandboxes still hold");
}

void add_sandbox_verbs(cli::Tool& tool, cmd::EnsureArgs& ensure, cmd::ReleaseArgs& release, cmd::SandboxArgs& one) {
  CLI::App* e = tool.verb("ensure", "Give a sandbox its TAP, address and host ports (idempotent)",
                          [&] { cmd::ensure(tool, ensure); });
  e->add_option("sandbox", ensure.sandbox, "Sandbox ID")->required();
  e->add_option("--port", ensure.ports, "Map CONTAINER port, from HOST port if given (repeatable)")
      ->type_name("CONTAINER[:HOST]");
  CLI::App* r = tool.verb("release", "Return a sandbox's TAP to the pool, or destroy it (idempotent)",
                          [&] { cmd::release(tool, release); });
  r->add_option("sandbox", release.sandbox, "Sandbox ID")->required();
  r->add_flag("--destroy", release.destroy, "Destroy the TAP instead of pooling it");
  tool.verb("list", "List every TAP: in use, pooled, quarantined", [&] { cmd::list(tool); });
  tool.verb("show", "Show one sandbox's network", [&] { cmd::show(tool, one); })
      ->add_option("sandbox", one.sandbox, "Sandbox ID")
      ->required();
  tool.verb("ports", "List host port mappings", [&] { cmd::ports(tool, one); })
      ->add_option("sandbox", one.sandbox, "Only this sandbox's");
}

void add_pool_verbs(cli::Tool& tool, cmd::PoolArgs& pool) {
  CLI::App* p = tool.verb("pool", "The pool of ready TAPs: warm, status, shrink");
  tool.verb(
          "warm", "Build TAPs until N are pooled", [&] { cmd::pool_warm(tool, pool); }, p)
      ->add_option("count", pool.count, "How many pooled TAPs to have")
      ->required()
      ->check(cli::integer(0, INT64_MAX));
  tool.verb(
      "status", "Count pooled, in-use and quarantined TAPs", [&] { cmd::pool_status(tool); }, p);
  tool.verb(
          "shrink", "Destroy pooled TAPs until at most N remain, in one batch", [&] { cmd::pool_shrink(tool, pool); },
          p)
      ->add_option("count", pool.count, "How many pooled TAPs to keep")
      ->required()
      ->check(cli::integer(0, INT64_MAX));
}

void add_fd_verbs(cli::Tool& tool, cmd::ServeArgs& serve, cmd::GetFdArgs& get, cmd::ReconcileArgs& rec) {
  CLI::App* sv = tool.verb("serve", "Hand TAP fds to VMMs over a Unix socket", [&] { cmd::serve(tool, serve); });
  tool.long_running(sv);
  sv->add_option("--socket", serve.flags.socket, "Socket path (default /run/cube/tap.sock)")->type_name("PATH");
  CLI::App* g = tool.verb("get-fd", "Get a sandbox's TAP fd from serve and run a command with it as fd 3",
                          [&] { cmd::get_fd(tool, get); });
  g->add_option("sandbox", get.sandbox, "Sandbox ID")->required();
  g->add_option("--socket", get.flags.socket, "Socket path (default /run/cube/tap.sock)")->type_name("PATH");
  g->add_option("--name", get.name, "The TAP's name, checked against the sandbox's")->type_name("TAP");
  g->add_option("--timeout", get.timeout, "How long to wait for serve (default 2s)")->type_name("DURATION");
  g->add_flag("--exec", get.exec, "Run the rest of the line, CMD [ARGS...], with CUBE_TAP_FD=3");
  tool.verb("reconcile", "Make the kernel and the state file agree after a crash", [&] { cmd::reconcile(tool, rec); })
      ->add_flag("--dry-run", rec.dry_run, "Print the plan only");
}

void add_bpf_verbs(cli::Tool& tool, cmd::SandboxArgs& one) {
  CLI::App* b = tool.verb("bpf", "The eBPF data path: status, stats");
  tool.verb(
      "status", "Programs, attach points and pinned maps with their fill", [&] { cmd::bpf_status(tool); }, b);
  tool.verb(
          "stats", "Per-TAP data-path counters, summed over the CPUs", [&] { cmd::bpf_stats(tool, one); }, b)
      ->add_option("sandbox", one.sandbox, "Only this sandbox's");
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-tap", "Sandbox network devices: TAPs, pool, addresses, host ports, fd hand-off, recovery");
  cmd::SetupArgs setup;
  cmd::TeardownArgs teardown;
  cmd::EnsureArgs ensure;
  cmd::ReleaseArgs release;
  cmd::SandboxArgs one;
  cmd::PoolArgs pool;
  cmd::ServeArgs serve;
  cmd::GetFdArgs get;
  cmd::ReconcileArgs rec;
  // Everything after --exec is the command get-fd runs, whatever it looks like (qemu's -netdev…).
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exec") != 0) continue;
    get.command.assign(argv + i + 1, argv + argc);
    argc = i + 1;
    break;
  }
  add_node_verbs(tool, setup, teardown);
  add_sandbox_verbs(tool, ensure, release, one);
  add_pool_verbs(tool, pool);
  add_fd_verbs(tool, serve, get, rec);
  add_bpf_verbs(tool, one);
  tool.verb("config", "Print the effective [tap] settings and where each came from", [&] { cmd::config(tool); });
  return tool.run(argc, argv);
}
