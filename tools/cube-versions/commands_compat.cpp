// The compat verbs of cube-versions (matrix, show, policy, rescan, adopt-baseline) and node forget.
#include "commands.hpp"

#include "compat_matrix.hpp"
#include "compat_store.hpp"
#include "compat_view.hpp"
#include "error.hpp"
#include "ids.hpp"
#include "log.hpp"
#include "output.hpp"
#include "stores.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

namespace cube::versions::cmd {
namespace {

Clock clock_now(cli::Context& ctx) {
  config::Settings s(ctx.config(), "versions");
  return {time::now_ms(), load_settings(s, {}).heartbeat_timeout_ms};
}

CompatMatrix load(cli::Context& ctx, const std::string& template_id, const std::string& node) {
  Clock c = clock_now(ctx);
  Stores stores(ctx, cluster::Access::read);
  return load_compat(stores, {template_id, node, c.now_ms, c.heartbeat_timeout_ms});
}

void print_rescans(const std::vector<RescanResult>& results, output::Format format) {
  output::Table t({{"node_id", "NODE"},
                   {"healthy", "HEALTHY"},
                   {"checked", "CHECKED", output::Align::right},
                   {"ok", "OK", output::Align::right},
                   {"stale", "STALE", output::Align::right},
                   {"unknown", "UNKNOWN", output::Align::right},
                   {"changed", "CHANGED", output::Align::right}});
  for (const auto& r : results) t.add({r.node_id, r.healthy, r.checked, r.ok, r.stale, r.unknown, r.changed});
  output::print(t, format);
}

}  // namespace

void compat(cli::Context& ctx, const CompatArgs& a) {
  std::string tpl = a.template_id.empty() ? std::string() : ids::check_template_ref(a.template_id);
  if (!a.node.empty()) ids::check(a.node, "node ID");
  CompatMatrix m = load(ctx, tpl, a.node);
  switch (ctx.format()) {
    case output::Format::json: compat_json(m, output::write); break;
    case output::Format::tsv: compat_tsv(m, output::write); break;
    case output::Format::jsonl: {
      output::RowStream rows(compat_long_columns(), ctx.format());
      compat_long(m, rows);
      rows.finish();
      break;
    }
    case output::Format::table:
      output::print(compat_grid(m), output::Format::table);
      output::write("\n");
      output::print_record(compat_summary(m), output::Format::table);
      break;
  }
  if (!a.check) return;
  std::vector<std::string> stale = stale_replicas(m);
  if (stale.empty()) return;
  output::flush();  // the matrix first, then what is wrong with it
  for (const auto& line : stale) log::error("{}", line);
  throw Error(Exit::check, "compatibility check failed",
              fmt::format("{} stale replica{}", stale.size(), stale.size() == 1 ? "" : "s"),
              "cube-versions compat show TEMPLATE prints the command that rebuilds each");
}

void compat_show(cli::Context& ctx, const TemplateArgs& a) {
  CompatMatrix m = load(ctx, ids::check_template_ref(a.template_id), "");
  bool machine = ctx.format() != output::Format::table;
  output::print(compat_detail(m, machine), ctx.format());
}

void compat_policy(cli::Context& ctx, const PolicyArgs& a) {
  std::string tpl = ids::check_template_ref(a.template_id);
  auto policy = compat::parse_policy(a.policy);
  if (!policy || a.policy.empty())
    throw Error(Exit::usage, fmt::format("unknown compatibility policy \"{}\"", a.policy),
                "expected STRICT, GUEST_ONLY or STRICT_KERNEL");
  Clock c = clock_now(ctx);
  Stores stores(ctx, cluster::Access::write);
  PolicyResult r = set_policy(stores, tpl, *policy, c);
  output::Table t({{"template_id", "Template"},
                   {"policy", "Policy"},
                   {"replicas", "Replicas re-evaluated", output::Align::right},
                   {"ok", "OK", output::Align::right},
                   {"stale", "Stale", output::Align::right},
                   {"unknown", "Unknown", output::Align::right}});
  t.add({r.template_id, std::string(compat::policy_name(r.policy)), r.replicas, r.ok, r.stale, r.unknown});
  output::print_record(t, ctx.format());
}

void compat_rescan(cli::Context& ctx, const RescanArgs& a) {
  if (a.all == !a.nodes.empty())
    throw Error(Exit::usage, a.all ? "--all and --node exclude each other" : "rescan needs --node NODE or --all");
  for (const auto& n : a.nodes) ids::check(n, "node ID");
  Clock c = clock_now(ctx);
  Stores stores(ctx, cluster::Access::write);
  print_rescans(rescan(stores, a.nodes, a.all, c), ctx.format());
}

void compat_adopt(cli::Context& ctx, const TemplateArgs& a) {
  std::string tpl = ids::check_template_ref(a.template_id);
  Clock c = clock_now(ctx);
  Stores stores(ctx, cluster::Access::write);
  int64_t n = adopt_baseline(stores, tpl, c);
  output::Table t({{"template_id", "Template"}, {"updated", "Replicas adopted", output::Align::right}});
  t.add({tpl, n});
  output::print_record(t, ctx.format());
}

void node_forget(cli::Context& ctx, const ForgetArgs& a) {
  ids::check(a.node, "node ID");
  Stores stores(ctx, cluster::Access::write);
  ForgetResult r = forget_node(stores.cluster(), a.node);
  log::info("forgot node {}: {} component row{}{}", r.node_id, r.components, r.components == 1 ? "" : "s",
            r.report ? " and its last report" : "");
  output::Table t(
      {{"node_id", "Node"}, {"components", "Components removed", output::Align::right}, {"report", "Report removed"}});
  t.add({r.node_id, r.components, r.report});
  output::print_record(t, ctx.format());
}

}  // namespace cube::versions::cmd
