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

// The end of a replica's JSON cell, its bound versions and the closing brace. A matrix has few
// distinct bindings, mostly in runs, so each is serialised once and the last is checked first.
class BoundTail {
 public:
  explicit BoundTail(const CompatMatrix& m) {
    for (const auto& s : m.strings) m_quoted.push_back(quoted(s));
  }
  const std::string& operator()(const CompatCell& c) {
    Key key{c.guest_image, c.agent, c.kernel};
    if (m_last && m_last->first == key) return m_last->second;
    auto [it, fresh] = m_tails.try_emplace(key);
    if (fresh)
      it->second = fmt::format(R"(,"guest_image_version":{},"agent_version":{},"kernel_version":{}}})",
                               m_quoted[c.guest_image], m_quoted[c.agent], m_quoted[c.kernel]);
    m_last = &*it;
    return it->second;
  }

 private:
  using Key = std::tuple<uint32_t, uint32_t, uint32_t>;
  std::vector<std::string> m_quoted;  // CompatMatrix::strings as JSON strings
  std::map<Key, std::string> m_tails;
  const std::pair<const Key, std::string>* m_last = nullptr;
};

// One cell as JSON into `out`: {"node_id":…,"status":"…"} with the bound versions of a replica.
void cell_json(std::string& out, const std::string& quoted_node, const CompatCell& c, BoundTail& bound) {
  out.assign(R"({"node_id":)");
  out += quoted_node;
  out += R"(,"status":")";
  out += cell_status_name(c.status);
  out += '"';
  out += c.replica ? std::string_view(bound(c)) : std::string_view("}");
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
  std::vector<std::string> ids;
  for (const auto& n : m.nodes) ids.push_back(quoted(n.id));
  BoundTail bound(m);
  std::string cell;
  // A template at a time through one writer, which keeps its buffer: draining a writer into a
  // fresh buffer for every piece of a 30 MB document has malloc grow and trim the heap each time.
  json::Writer w;
  sink(R"({"templates":[)");
  for (size_t i = 0; i < m.templates.size(); ++i) {
    const CompatTemplate& t = m.templates[i];
    w.clear();
    w.begin_object();
    w.field("template_id", t.id);
    w.field("instance_type", t.instance_type);
    w.field("policy", compat::policy_name(t.policy));
    w.field("overall", cell_status_name(t.overall));
    w.key("cells");
    w.begin_array();
    for (const auto& c : t.cells) {
      cell_json(cell, ids[c.node], c, bound);
      w.raw(cell);
    }
    w.end_array();
    w.end_object();
    if (i > 0) sink(",");
    sink(w.str());
  }
  sink(R"(],"summary":)");
  w.clear();
  w.begin_object();
  const CompatSummary& s = m.summary;
  w.field("templates", static_cast<int64_t>(m.templates.size()));
  w.field("stale_templates", s.stale_templates);
  w.field("stale_replicas", s.stale_replicas);
  w.field("affected_nodes", s.affected_nodes);
  w.field("missing_replicas", s.missing_replicas);
  w.field("unknown_replicas", s.unknown_replicas);
  w.end_object();
  sink(w.str());
  sink("}\n");
}

std::vector<output::Column> compat_long_columns() {
  return {{"template_id", "TEMPLATE"}, {"node_id", "NODE"},         {"healthy", "HEALTHY"},
          {"status", "STATUS"},        {"policy", "POLICY"},        {"guest_image_version", "GUEST IMAGE"},
          {"agent_version", "AGENT"},  {"kernel_version", "KERNEL"}};
}

void compat_long(const CompatMatrix& m, output::RowStream& rows) {
  // One row, refilled: assigning a string into a cell that holds one reuses its buffer.
  std::vector<output::Cell> row(8);
  for (const auto& tpl : m.templates) {
    row[0].value = tpl.id;
    row[4].value = std::string(compat::policy_name(tpl.policy));
    for (const auto& c : tpl.cells) {
      const CompatNode& n = m.nodes[c.node];
      row[1].value = n.id;
      row[2].value = n.healthy;
      row[3].value = std::string(cell_status_name(c.status));
      row[5].value = m.text(c.guest_image);
      row[6].value = m.text(c.agent);
      row[7].value = m.text(c.kernel);
      rows.add(row);
    }
  }
}

void compat_tsv(const CompatMatrix& m, const std::function<void(std::string_view)>& sink) {
  auto escaped = [](std::string_view raw) {
    std::string out;
    output::append_tsv_escaped(out, raw);
    return out;
  };
  std::vector<std::string> nodes, strings;  // "node\thealthy\t" per node; each interned string
  for (const auto& n : m.nodes) nodes.push_back(escaped(n.id) + (n.healthy ? "\ttrue\t" : "\tfalse\t"));
  for (const auto& text : m.strings) strings.push_back(escaped(text));
  sink(output::tsv_header(compat_long_columns()));
  std::string line;
  for (const auto& t : m.templates) {
    std::string id = escaped(t.id) + '\t';
    std::string policy = '\t' + escaped(compat::policy_name(t.policy)) + '\t';
    for (const auto& c : t.cells) {
      line.assign(id);
      line += nodes[c.node];
      line += cell_status_name(c.status);
      line += policy;
      line += strings[c.guest_image];
      line += '\t';
      line += strings[c.agent];
      line += '\t';
      line += strings[c.kernel];
      line += '\n';
      sink(line);
    }
  }
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
