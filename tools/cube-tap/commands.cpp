// The node and per-sandbox verbs: setup, teardown, ensure, release, list, show, ports, config.
#include "commands.hpp"
#include "commands_session.hpp"

#include "datapath.hpp"
#include "error.hpp"
#include "ids.hpp"
#include "lifecycle.hpp"
#include "netlink.hpp"
#include "node_setup.hpp"
#include "output.hpp"
#include "ports.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

namespace cube::tap::cmd {
namespace {

std::string ports_text(const std::vector<PortRow>& ports) {
  std::string out;
  for (const auto& p : ports) out += fmt::format("{}{}:{}", out.empty() ? "" : ",", p.container_port, p.host_port);
  return out;
}

output::Table sandbox_table() {
  using output::Align;
  return output::Table({{"sandbox", "Sandbox"},
                        {"tap", "TAP"},
                        {"ifindex", "Ifindex", Align::right},
                        {"address", "Address"},
                        {"state", "State"},
                        {"gateway", "Node gateway"},
                        {"guest_address", "Guest address"},
                        {"guest_gateway", "Guest gateway"},
                        {"guest_mac", "Guest MAC"},
                        {"gateway_mac", "Gateway MAC"},
                        {"mtu", "MTU", Align::right},
                        {"ports", "Ports"},
                        {"origin", "Origin"}});
}

void add_sandbox_row(output::Table& t, const TapRow& tap, const std::vector<PortRow>& ports, const NodeRow& node,
                     const Settings& s, std::string_view origin) {
  t.add({tap.sandbox_id, tap.name, tap.ifindex, ipv4::format(tap.address), std::string(state_name(tap.state)),
         ipv4::format(node.cidr.gateway()), ipv4::format(s.guest.address), ipv4::format(s.guest.gateway),
         ipv4::format_mac(s.guest.mac), ipv4::format_mac(s.gateway_mac), node.mtu, ports_text(ports),
         std::string(origin)});
}

}  // namespace

Settings settings(cli::Context& ctx, const SettingFlags& flags) {
  config::Settings s(ctx.config(), "tap");
  return load_settings(s, flags);
}

void setup(cli::Context& ctx, const SetupArgs& a) {
  Settings s = settings(ctx, a.flags);
  state::Db db = ctx.open_state(state::Access::write);
  std::unique_ptr<Datapath> datapath = make_datapath(s);
  SetupResult r = tap::setup(db, *datapath, s);
  output::Table t({{"uplink", "Uplink"},
                   {"uplink_address", "Uplink address"},
                   {"cidr", "CIDR"},
                   {"gateway", "Gateway (on lo)"},
                   {"mtu", "MTU", output::Align::right},
                   {"ephemeral_ports", "Ephemeral ports"},
                   {"nft_table", "nftables table"}});
  t.add({r.node.uplink, r.uplink_address, r.node.cidr.text(), ipv4::format(r.node.cidr.gateway()), r.node.mtu,
         r.port_range, fmt::format("inet {}", k_nft_table)});
  output::print_record(t, ctx.format());
}

void teardown(cli::Context& ctx, const TeardownArgs& a) {
  Session s(ctx);
  TeardownResult r = tap::teardown(s.db, *s.datapath, a.force);
  output::Table t({{"was_set_up", "Was set up"}, {"taps_destroyed", "TAPs destroyed", output::Align::right}});
  t.add({r.was_set_up, static_cast<int64_t>(r.taps_destroyed)});
  output::print_record(t, ctx.format());
}

void ensure(cli::Context& ctx, const EnsureArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  auto wanted = parse_port_requests(a.ports);
  Session s(ctx);
  Ensured e = tap::ensure(s.env, a.sandbox, wanted);
  NodeRow node = require_node(s.db);
  output::Table t = sandbox_table();
  add_sandbox_row(t, e.tap, e.ports, node, s.settings, origin_name(e.origin));
  output::print_record(t, ctx.format());
}

void release(cli::Context& ctx, const ReleaseArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Session s(ctx);
  Released r = tap::release(s.env, a.sandbox, a.destroy);
  output::Table t({{"sandbox", "Sandbox"}, {"tap", "TAP"}, {"outcome", "Outcome"}});
  t.add({a.sandbox, r.tap, std::string(outcome_name(r.outcome))});
  output::print_record(t, ctx.format());
}

void list(cli::Context& ctx) {
  state::Db db = ctx.open_state(state::Access::read);
  using output::Align;
  output::Table t({{"sandbox", "SANDBOX"},
                   {"tap", "TAP"},
                   {"ifindex", "IFINDEX", Align::right},
                   {"address", "ADDRESS"},
                   {"state", "STATE"},
                   {"ports", "PORTS"},
                   {"failures", "FAILURES", Align::right},
                   {"updated", "UPDATED"},
                   {"updated_ms", "UPDATED MS", Align::right}});
  int64_t now = time::now_ms();
  for (const auto& tap : all_taps(db)) {
    t.add({tap.sandbox_id.empty() ? output::Cell() : output::Cell(tap.sandbox_id), tap.name, tap.ifindex,
           ipv4::format(tap.address), std::string(state_name(tap.state)), ports_text(ports_of(db, tap.name)),
           tap.failures, time::age(now - tap.updated_ms), tap.updated_ms});
  }
  output::print(t, ctx.format());
}

void show(cli::Context& ctx, const SandboxArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Settings s = settings(ctx);
  state::Db db = ctx.open_state(state::Access::read);
  NodeRow node = require_node(db);
  auto tap = tap_by_sandbox(db, a.sandbox);
  if (!tap) throw Error(Exit::not_found, fmt::format("sandbox {} not found", a.sandbox), "it has no TAP here");
  output::Table t = sandbox_table();
  add_sandbox_row(t, *tap, ports_of(db, tap->name), node, s, "existing");
  output::print_record(t, ctx.format());
}

void ports(cli::Context& ctx, const SandboxArgs& a) {
  if (!a.sandbox.empty()) ids::check(a.sandbox, "sandbox ID");
  state::Db db = ctx.open_state(state::Access::read);
  using output::Align;
  output::Table t({{"host_port", "HOST PORT", Align::right},
                   {"sandbox", "SANDBOX"},
                   {"tap", "TAP"},
                   {"container_port", "CONTAINER PORT", Align::right},
                   {"protocol", "PROTO"}});
  for (const auto& p : all_ports(db))
    if (a.sandbox.empty() || p.sandbox_id == a.sandbox)
      t.add({static_cast<int64_t>(p.host_port), p.sandbox_id, p.tap_name, static_cast<int64_t>(p.container_port),
             p.protocol});
  output::print(t, ctx.format());
}

void config(cli::Context& ctx) {
  config::Settings s(ctx.config(), "tap");
  load_settings(s, {});
  cli::print_settings(s, ctx.format());
}

}  // namespace cube::tap::cmd
