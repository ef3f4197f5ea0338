// The place verb: one request (with --explain), or a stream of them (--batch).
#include "commands.hpp"

#include "commit.hpp"
#include "error.hpp"
#include "ids.hpp"
#include "inventory.hpp"
#include "inventory_feed.hpp"
#include "json_writer.hpp"
#include "placer.hpp"
#include "registry.hpp"
#include "timeutil.hpp"

#include <iostream>
#include <map>
#include <memory>
#include <optional>

namespace cube::sched::cmd {
namespace {

// A long-running batch re-reads the nodes this often (in the background: inventory_feed.hpp), so
// heartbeats and other placers' allocations are seen; in between, decisions use the inventory in
// memory.
constexpr int64_t k_inventory_period_ms = 1000;

// Where placement reads and writes: the cluster store, and the state file for templates' replicas,
// opened only when a request names a template.
class Stores {
 public:
  Stores(cli::Context& ctx, bool commit)
      : m_ctx(ctx), m_cluster(open_cluster(ctx, commit ? cluster::Access::write : cluster::Access::read)) {}
  cluster::Store& cluster() { return *m_cluster; }
  state::Db& state() {
    if (!m_state) m_state = m_ctx.open_state(state::Access::read);
    return *m_state;
  }
  state::Db* state_if_open() { return m_state ? &*m_state : nullptr; }

 private:
  cli::Context& m_ctx;
  std::unique_ptr<cluster::Store> m_cluster;
  std::optional<state::Db> m_state;
};

Inventory load_inventory(Stores& s, const Policy& p) {
  int64_t now = time::now_ms();
  return Inventory(load_nodes(s.cluster(), true, p.creating_after(now)), p, now);
}

Decision run(Stores& s, Inventory& inv, const Request& req, const PlaceArgs& a) {
  if (a.commit && req.sandbox.empty())
    throw Error(Exit::usage, "--commit needs a sandbox ID", "", "give --sandbox ID (or \"sandbox\" in a batch line)");
  return a.commit ? place_and_commit(s.cluster(), s.state_if_open(), inv, req, a.random_top)
                  : Placer(inv).decide(req, a.random_top);
}

[[noreturn]] void nothing_fits(const Rejections& r, bool explained) {
  throw Error(Exit::conflict, "no node fits the request", rejection_summary(r),
              explained ? "" : "--explain shows every node's reason");
}

void write_decision(json::Writer& w, const Inventory& inv, const Request& req, const Decision& d, bool committed) {
  w.field("sandbox", req.sandbox);
  w.key("node");
  d.node ? w.value(inv.id(*d.node)) : w.null();
  w.key("score");
  d.node ? w.value(d.score.total) : w.null();
  w.field("committed", committed && d.node.has_value());
}

void print_explain_json(const Inventory& inv, const Request& req, const Explanation& e, bool committed) {
  json::Writer w;
  w.begin_object();
  write_decision(w, inv, req, e.decision, committed);
  w.key("nodes");
  w.begin_array();
  for (const auto& r : e.nodes) {
    w.begin_object();
    w.field("node", inv.id(r.node));
    w.field("fits", r.filter == Filter::none);
    w.key("filter");
    r.filter == Filter::none ? w.null() : w.value(filter_name(r.filter));
    w.field("reason", r.reason);
    for (const auto& [k, v] : r.numbers) {
      w.key(k);
      std::visit([&w](auto x) { w.value(x); }, v);
    }
    w.key("score");
    if (r.filter == Filter::none) {
      w.begin_object();
      w.field("cpu", r.score.cpu);
      w.field("mem", r.score.mem);
      w.field("total", r.score.total);
      w.end_object();
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_array();
  w.key("rejections");
  w.begin_array();
  for (const auto& [what, count] : e.rejections) {
    w.begin_object();
    w.field("reason", what);
    w.field("count", static_cast<int64_t>(count));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  output::write(w.str() + "\n");
}

void print_explain(const Inventory& inv, const Request& req, const Explanation& e, bool committed,
                   output::Format format) {
  if (format == output::Format::json || format == output::Format::jsonl)
    return print_explain_json(inv, req, e, committed);
  using output::Style;
  output::Table t({{"node", "NODE"}, {"chosen", "CHOSEN"}, {"filter", "REJECTED BY"}, {"reason", "WHY"}});
  for (const auto& r : e.nodes) {
    bool chosen = e.decision.node == r.node;
    t.add({inv.id(r.node), output::Cell(chosen, chosen ? Style::good : Style::plain),
           output::Cell(std::string(filter_name(r.filter)), Style::warn), r.reason});
  }
  output::print(t, format);
}

void print_decision(const Inventory& inv, const Request& req, const Decision& d, bool committed,
                    output::Format format) {
  using output::Align;
  output::Table t({{"node", "NODE"},
                   {"sandbox", "SANDBOX"},
                   {"score", "SCORE", Align::right},
                   {"cpu_score", "CPU SCORE", Align::right},
                   {"mem_score", "MEM SCORE", Align::right},
                   {"committed", "COMMITTED"}});
  t.add({inv.id(*d.node), req.sandbox, d.score.total, d.score.cpu, d.score.mem, committed});
  output::print_record(t, format);
}

// A request naming a template gets that template's replicas; a batch keeps them until it takes a
// fresh inventory.
void with_replicas(Stores& s, Request& req, const std::string& template_id,
                   std::map<std::string, std::shared_ptr<const TemplateReplicas>>* cache = nullptr) {
  if (template_id.empty()) return;
  std::string id = ids::check_template_ref(template_id);
  if (cache) {
    auto& slot = (*cache)[id];
    if (!slot) slot = load_replicas(s.state(), id);
    req.replicas = slot;
    return;
  }
  req.replicas = load_replicas(s.state(), id);
}

void place_one(cli::Context& ctx, const PlaceArgs& a) {
  Policy p = settings(ctx).policy;
  Request req = build_request(a.request, p.selector_keys);
  Stores stores(ctx, a.commit);
  with_replicas(stores, req, a.request.template_id);
  Inventory inv = load_inventory(stores, p);
  std::optional<Explanation> e;
  if (a.explain) e = Placer(inv).explain(req);  // before committing: the numbers the decision saw
  Decision d = run(stores, inv, req, a);
  if (e) {
    e->decision = d;
    print_explain(inv, req, *e, a.commit, ctx.format());
  }
  if (!d.node) nothing_fits(e ? e->rejections : Placer(inv).rejections(req), e.has_value());
  if (!e) print_decision(inv, req, d, a.commit, ctx.format());
}

// Reads one line of at most k_max_request_line bytes; a longer line is consumed and reported.
bool read_line(std::istream& in, std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  int c;
  bool any = false;
  while ((c = in.get()) != EOF) {
    any = true;
    if (c == '\n') return true;
    if (line.size() < k_max_request_line + 1)
      line.push_back(static_cast<char>(c));
    else
      too_long = true;
  }
  return any;
}

}  // namespace

void place(cli::Context& ctx, const PlaceArgs& a) {
  if (!a.batch) return place_one(ctx, a);
  Policy p = settings(ctx).policy;
  Stores stores(ctx, a.commit);
  Inventory inv = load_inventory(stores, p);
  InventoryFeed feed(cluster_target(ctx), p, k_inventory_period_ms);
  std::map<std::string, std::shared_ptr<const TemplateReplicas>> replicas;
  std::string line;
  bool too_long = false;
  int64_t n = 0;
  Exit worst = Exit::ok;
  std::ios::sync_with_stdio(false);
  while (read_line(std::cin, line, too_long)) {
    ++n;
    json::Writer w;
    w.begin_object();
    w.field("line", n);
    bool decided = false;
    try {
      if (std::optional<Inventory> fresh = feed.take()) {  // a failed re-read fails this line, once
        inv = std::move(*fresh);
        replicas.clear();
      }
      if (too_long) line.resize(k_max_request_line + 1);  // parse_request_line names the limit
      std::string template_id;
      Request req = parse_request_line(line, p.selector_keys, &template_id);
      with_replicas(stores, req, template_id, &replicas);
      Decision d = run(stores, inv, req, a);
      write_decision(w, inv, req, d, a.commit);
      decided = true;
      if (!d.node) nothing_fits(Placer(inv).rejections(req), false);
    } catch (const Error& e) {
      if (!decided) {
        w.key("node");
        w.null();
      }
      w.field("error", e.message());
      w.field("exit", static_cast<int64_t>(e.code()));
      if (worst == Exit::ok) worst = e.code();
    }
    w.end_object();
    output::write(w.str() + "\n");
    output::flush();
  }
  if (worst != Exit::ok)
    throw Error(worst, "some requests were not placed", "", "each failed line has \"error\" and \"exit\"");
}

}  // namespace cube::sched::cmd
