#include "compat_view.hpp"

#include "json_writer.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <map>

namespace cube::versions {
namespace {

output::Style style_of(CellStatus s) {
  switch (s) {
    case CellStatus::ok: return output::Style::good;
    case CellStatus::stale: return output::Style::bad;
    case CellStatus::unknown: return output::Style::warn;
    case CellStatus::missing: return output::Style::dim;
  }
  return output::Style::plain;
}

output::Cell status_cell(CellStatus s) { return output::Cell(cell_status_name(s), style_of(s)); }

std::string quoted(std::string_view s) {
  std::string q;
  json::append_quoted(q, s);
  return q;
}

// `bound -> current`, marked with `*` when they differ; one side alone when the other is empty.
output::Cell delta_cell(const std::string& bound, const std::string& current, bool compared) {
  if (bound.empty() && current.empty()) return output::Cell();
  if (bound == current) return output::Cell(bound);
  std::string text = version_delta(bound, current) + " *";
  bool differs = !bound.empty() && !current.empty();
  return output::Cell(text, differs && compared ? output::Style::bad : output::Style::warn);
}

}  // namespace

output::Table compat_grid(const CompatMatrix& m) {
  // Only the nodes some shown template has a cell on, in ID order.
  std::vector<int32_t> column(m.nodes.size(), -1);
  for (const auto& t : m.templates)
    for (const auto& c : t.cells) column[c.node] = 0;
  std::vector<output::Column> cols = {{"template_id", "TEMPLATE"}, {"policy", "POLICY"}, {"overall", "OVERALL"}};
  for (size_t i = 0; i < m.nodes.size(); ++i)
    if (column[i] == 0) {
      column[i] = static_cast<int32_t>(cols.size());
      cols.push_back({m.nodes[i].id, m.nodes[i].id});
    }
  output::Table table(cols);
  for (const auto& t : m.templates) {
    std::vector<output::Cell> row(cols.size(), output::Cell("-", output::Style::dim));
    row[0] = t.id;
    row[1] = std::string(compat::policy_name(t.policy));
    row[2] = status_cell(t.overall);
    for (const auto& c : t.cells) row[static_cast<size_t>(column[c.node])] = status_cell(c.status);
    table.add(std::move(row));
  }
  return table;
}

output::Table compat_summary(const CompatMatrix& m) {
  output::Table t({{"templates", "Templates", output::Align::right},
                   {"stale_templates", "Stale templates", output::Align::right},
                   {"stale_replicas", "Stale replicas", output::Align::right},
                   {"affected_nodes", "Affected nodes", output::Align::right},
                   {"missing_replicas", "Missing replicas", output::Align::right},
                   {"unknown_replicas", "Unknown replicas", output::Align::right}});
  const CompatSummary& s = m.summary;
  t.add({static_cast<int64_t>(m.templates.size()), s.stale_templates, s.stale_replicas, s.affected_nodes,
         s.missing_replicas, s.unknown_replicas});
  return t;
}

void compat_json(const CompatMatrix& m, const std::function<void(std::string_view)>& sink) {
  constexpr size_t k_piece = 64 * 1024;
  std::vector<std::string> ids;
  for (const auto& n : m.nodes) ids.push_back(quoted(n.id));
  std::vector<std::string> texts;
  for (const auto& s : m.strings) texts.push_back(quoted(s));
  // A READY cell's bound versions repeat across the matrix: serialise each triple once.
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::string> bound;
  json::Writer w;
  w.begin_object();
  w.key("templates");
  w.begin_array();
  for (const auto& t : m.templates) {
    w.begin_object();
    w.field("template_id", t.id);
    w.field("instance_type", t.instance_type);
    w.field("policy", compat::policy_name(t.policy));
    w.field("overall", cell_status_name(t.overall));
    w.key("cells");
    w.begin_array();
    for (const auto& c : t.cells) {
      std::string& b = bound[{c.guest_image, c.agent, c.kernel}];
      if (b.empty())
        b = fmt::format(R"(,"guest_image_version":{},"agent_version":{},"kernel_version":{}}})", texts[c.guest_image],
                        texts[c.agent], texts[c.kernel]);
      w.raw(fmt::format(R"({{"node_id":{},"status":"{}")", ids[c.node], cell_status_name(c.status)) +
            (c.replica ? b : std::string("}")));
    }
    w.end_array();
    w.end_object();
    if (w.str().size() >= k_piece) sink(w.drain());
  }
  w.end_array();
  w.key("summary");
  w.begin_object();
  const CompatSummary& s = m.summary;
  w.field("templates", static_cast<int64_t>(m.templates.size()));
  w.field("stale_templates", s.stale_templates);
  w.field("stale_replicas", s.stale_replicas);
  w.field("affected_nodes", s.affected_nodes);
  w.field("missing_replicas", s.missing_replicas);
  w.field("unknown_replicas", s.unknown_replicas);
  w.end_object();
  w.end_object();
  sink(w.drain() + "\n");
}

output::Table compat_long(const CompatMatrix& m) {
  output::Table t({{"template_id", "TEMPLATE"},
                   {"node_id", "NODE"},
                   {"healthy", "HEALTHY"},
                   {"status", "STATUS"},
                   {"policy", "POLICY"},
                   {"guest_image_version", "GUEST IMAGE"},
                   {"agent_version", "AGENT"},
                   {"kernel_version", "KERNEL"}});
  for (const auto& tpl : m.templates)
    for (const auto& c : tpl.cells) {
      const CompatNode& n = m.nodes[c.node];
      t.add({tpl.id, n.id, n.healthy, std::string(cell_status_name(c.status)),
             std::string(compat::policy_name(tpl.policy)), m.text(c.guest_image), m.text(c.agent), m.text(c.kernel)});
    }
  return t;
}

std::string fix_command(const CompatMatrix& m, const CompatTemplate& t, const CompatCell& c) {
  const CompatNode& n = m.nodes[c.node];
  switch (c.status) {
    case CellStatus::stale: return fmt::format("cube-rootfs redo {} --mode all --nodes {}", t.id, n.id);
    case CellStatus::missing: return fmt::format("cube-rootfs distribute {} --to {}=DIR", t.id, n.id);
    case CellStatus::unknown:
      if (n.healthy && c.guest_image == 0 && n.guest_image != 0)
        return fmt::format("cube-versions compat adopt-baseline {}", t.id);
      return {};
    case CellStatus::ok: return {};
  }
  return {};
}

output::Table compat_detail(const CompatMatrix& m, bool machine) {
  std::vector<output::Column> cols = {
      {"node_id", "NODE"}, {"healthy", "HEALTHY"}, {"replica", "REPLICA"}, {"status", "STATUS"}, {"policy", "POLICY"}};
  if (machine) {
    for (const char* v : {"guest_image", "agent", "kernel"}) {
      cols.push_back({fmt::format("bound_{}_version", v), ""});
      cols.push_back({fmt::format("current_{}_version", v), ""});
    }
  } else {
    cols.insert(cols.end(), {{"guest_image", "GUEST IMAGE"}, {"agent", "AGENT"}, {"kernel", "KERNEL"}});
  }
  cols.insert(cols.end(), {{"checked", "CHECKED"}, {"fix", "FIX"}});
  output::Table table(cols);
  for (const auto& t : m.templates)
    for (const auto& c : t.cells) {
      const CompatNode& n = m.nodes[c.node];
      compat::Versions b = m.bound(c), cur = m.current(n);
      if (!n.healthy) cur = {};  // an unhealthy node's versions do not count
      std::vector<output::Cell> row = {n.id, n.healthy,
                                       c.replica ? output::Cell(m.text(c.replica_status)) : output::Cell(),
                                       status_cell(c.status), std::string(compat::policy_name(t.policy))};
      if (machine) {
        for (auto [x, y] :
             {std::pair{&b.guest_image, &cur.guest_image}, {&b.agent, &cur.agent}, {&b.kernel, &cur.kernel}}) {
          row.push_back(*x);
          row.push_back(*y);
        }
      } else if (c.replica) {
        row.push_back(delta_cell(b.guest_image, cur.guest_image, true));
        row.push_back(delta_cell(b.agent, cur.agent, compat::compares_agent(t.policy)));
        row.push_back(delta_cell(b.kernel, cur.kernel, compat::compares_kernel(t.policy)));
      } else {
        row.insert(row.end(), 3, output::Cell());
      }
      row.push_back(c.checked_ms > 0 ? output::Cell(time::rfc3339(c.checked_ms)) : output::Cell());
      std::string fix = fix_command(m, t, c);
      row.push_back(fix.empty() ? output::Cell() : output::Cell(fix));
      table.add(std::move(row));
    }
  return table;
}

}  // namespace cube::versions
