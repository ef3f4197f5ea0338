// apply, reconcile, teardown: the policies in the kernel's nftables.
#include "commands.hpp"
#include "enforce.hpp"
#include "error.hpp"
#include "ids.hpp"

namespace cube::egress::cmd {
namespace {

EnforceEnv env(state::Db& db, nft::Context& nft, const Settings& s) {
  return {db, nft, {s.proxy_http_port, s.proxy_tls_port, s.dns_relay_port}, compile_options(s)};
}

void print_applied(const std::vector<Applied>& rows, output::Format format) {
  using output::Align;
  output::Table t({{"address", "ADDRESS"},
                   {"sandbox", "SANDBOX"},
                   {"policy", "POLICY"},
                   {"revision", "REVISION", Align::right},
                   {"allow", "ALLOW", Align::right},
                   {"deny", "DENY", Align::right},
                   {"l7", "L7"},
                   {"dns_learning", "DNS LEARNING"},
                   {"learned", "LEARNED"}});
  for (const auto& r : rows) {
    bool own = r.revision.has_value();
    t.add({ipv4_text(r.address), r.sandbox.empty() ? output::Cell() : output::Cell(r.sandbox),
           own ? "sandbox" : "default", own ? output::Cell(*r.revision) : output::Cell(), r.allow, r.deny, r.l7,
           r.dns_learning, r.learned.empty() ? output::Cell() : output::Cell(r.learned)});
  }
  output::print(t, format);
}

}  // namespace

void apply(cli::Context& tool, const ApplyArgs& a) {
  if (a.all == a.sandbox.has_value())
    throw Error(Exit::usage, "apply takes one SANDBOX or --all", "", "cube-egress-rules apply SANDBOX");
  if (a.sandbox) ids::check(*a.sandbox, "sandbox ID");
  Settings s = settings(tool);
  auto db = tool.open_state(state::Access::write);
  state::Transaction tx(db);
  nft::Context nft;
  EnforceEnv e = env(db, nft, s);
  auto rows = a.all ? apply_all(e) : apply_sandbox(e, *a.sandbox);
  tx.commit();
  print_applied(rows, tool.format());
}

void apply_in(state::Db& db, const Settings& s, const std::string& sandbox) {
  nft::Context nft;
  EnforceEnv e = env(db, nft, s);
  apply_sandbox(e, sandbox);
}

void reconcile(cli::Context& tool, const ReconcileArgs& a) {
  Settings s = settings(tool);
  auto db = tool.open_state(a.dry_run ? state::Access::read : state::Access::write);
  std::optional<state::Transaction> tx;
  if (!a.dry_run) tx.emplace(db);
  nft::Context nft;
  EnforceEnv e = env(db, nft, s);
  auto drift = egress::reconcile(e, a.dry_run);
  if (tx) tx->commit();
  output::Table t({{"object", "OBJECT"},
                   {"address", "ADDRESS"},
                   {"sandbox", "SANDBOX"},
                   {"problem", "PROBLEM"},
                   {"action", "ACTION"}});
  for (const auto& d : drift)
    t.add({d.object, d.address ? output::Cell(ipv4_text(*d.address)) : output::Cell(),
           d.sandbox.empty() ? output::Cell() : output::Cell(d.sandbox), d.problem, a.dry_run ? "would fix" : "fixed"});
  output::print(t, tool.format());
}

void teardown(cli::Context& tool) {
  nft::Context nft;
  bool removed = egress::teardown(nft);
  output::Table t({{"table", "Table"}, {"removed", "Removed"}});
  t.add({"inet cube_egress", removed});
  output::print_record(t, tool.format());
}

}  // namespace cube::egress::cmd
