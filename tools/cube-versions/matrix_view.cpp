#include "matrix_view.hpp"

#include "json_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace cube::versions {
namespace {

void health_fields(json::Writer& w, const NodeView& n) {
  w.key("healthy");
  if (n.health == Health::unknown)
    w.null();
  else
    w.value(n.health == Health::healthy);
  w.field("health_reason", n.reason);
}

std::string_view health_text(Health h) {
  return h == Health::healthy ? "healthy" : h == Health::unhealthy ? "unhealthy" : "unknown";
}

output::Style health_style(Health h) {
  return h == Health::healthy ? output::Style::good : h == Health::unhealthy ? output::Style::bad : output::Style::dim;
}

// Healthy true/false, or null when no registry knows the node.
output::Cell healthy_cell(Health h) {
  if (h == Health::unknown) return output::Cell();
  return output::Cell(h == Health::healthy);
}

// The version most nodes run; the others are what a person should look at.
uint32_t majority(const ComponentView& c) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < c.versions.size(); ++i)
    if (c.versions[i].nodes.size() > c.versions[best].nodes.size()) best = i;
  return best;
}

// `[cell, …]` for a node whose group in component c is pattern[c].
std::string components_array(const std::vector<uint32_t>& pattern, const std::vector<std::vector<std::string>>& cells) {
  json::Writer w;
  w.begin_array();
  for (size_t ci = 0; ci < pattern.size(); ++ci)
    if (pattern[ci] != k_no_group) w.raw(cells[ci][pattern[ci]]);
  w.end_array();
  return w.take();
}

}  // namespace

std::string short_version(const std::string& v) {
  size_t at = v.find("sha256:");
  if (at == std::string::npos || v.size() <= at + 7 + 12) return v;
  return v.substr(0, at + 7 + 12);
}

void matrix_json(const Matrix& m, const version::Stamp& cp, const std::function<void(std::string_view)>& sink) {
  constexpr size_t k_piece = 64 * 1024;
  // Node IDs, component names and versions repeat across the document: quote each once.
  auto quoted = [](std::string_view s) {
    std::string q;
    json::append_quoted(q, s);
    return q;
  };
  std::vector<std::string> node_ids;
  node_ids.reserve(m.nodes.size());
  for (const auto& n : m.nodes) node_ids.push_back(quoted(n.id));
  // A node's cell is one of a few (component, version) pairs: serialise each pair once.
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> versions, cells;
  for (const auto& c : m.components) {
    names.push_back(quoted(c.name));
    auto& vs = versions.emplace_back();
    auto& cs = cells.emplace_back();
    for (const auto& g : c.versions) {
      vs.push_back(quoted(g.version));
      cs.push_back(
          fmt::format(R"({{"component":{},"version":{},"declared":{}}})", names.back(), vs.back(), g.declared));
    }
  }
  // Most nodes run one of a few version sets: serialise each set's array once, keyed by the
  // node's version group in every component.
  std::map<std::vector<uint32_t>, std::string> arrays;
  std::vector<uint32_t> pattern(m.components.size());
  json::Writer w;
  w.begin_object();
  w.key("control_plane");
  w.begin_object();
  w.field("version", cp.version);
  w.field("commit", cp.commit);
  w.field("build_time", cp.build_time);
  w.end_object();
  w.key("components");
  w.begin_array();
  for (size_t ci = 0; ci < m.components.size(); ++ci) {
    const ComponentView& c = m.components[ci];
    w.begin_object();
    w.key("component");
    w.raw(names[ci]);
    w.field("declared_version", c.declared.empty() ? std::string() : c.declared.front());
    w.key("declared_versions");
    w.begin_array();
    for (const auto& d : c.declared) w.value(d);
    w.end_array();
    w.field("consistent", c.consistent());
    w.key("versions");
    w.begin_array();
    for (size_t gi = 0; gi < c.versions.size(); ++gi) {
      w.begin_object();
      w.key("version");
      w.raw(versions[ci][gi]);
      w.field("declared", c.versions[gi].declared);
      w.key("nodes");
      w.begin_array();
      for (uint32_t n : c.versions[gi].nodes) w.raw(node_ids[n]);
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("nodes");
  w.begin_array();
  for (uint32_t i : m.shown_nodes) {
    const NodeView& n = m.nodes[i];
    w.begin_object();
    w.key("node_id");
    w.raw(node_ids[i]);
    health_fields(w, n);
    w.key("components");
    for (size_t ci = 0; ci < m.components.size(); ++ci) pattern[ci] = m.components[ci].group_of[i];
    auto [it, fresh] = arrays.try_emplace(pattern);
    if (fresh) it->second = components_array(pattern, cells);
    w.raw(it->second);
    w.end_object();
    if (w.str().size() >= k_piece) sink(w.drain());
  }
  w.end_array();
  w.end_object();
  sink(w.drain() + "\n");
}

output::Table components_table(const Matrix& m) {
  output::Table t({{"component", "COMPONENT"},
                   {"declared_version", "DECLARED"},
                   {"versions", "REPORTED (NODES)"},
                   {"consistent", "STATUS"}});
  for (const auto& c : m.components) {
    std::vector<std::string> parts;
    for (const auto& g : c.versions) parts.push_back(fmt::format("{} ({})", short_version(g.version), g.nodes.size()));
    bool undeclared = !c.declared.empty() && std::any_of(c.versions.begin(), c.versions.end(),
                                                         [](const VersionGroup& g) { return !g.declared; });
    std::string status = !c.consistent() ? "skew" : undeclared ? "undeclared" : "ok";
    output::Style style = status == "ok" ? output::Style::good : output::Style::bad;
    std::string declared = c.declared.empty() ? "-" : short_version(fmt::format("{}", fmt::join(c.declared, ",")));
    t.add({c.name, declared, fmt::format("{}", fmt::join(parts, ", ")), {status, style}});
  }
  return t;
}

output::Table node_grid(const Matrix& m) {
  std::vector<output::Column> cols = {{"node_id", "NODE"}, {"health", "HEALTH"}};
  for (const auto& c : m.components) cols.push_back({c.name, c.name});
  output::Table t(std::move(cols));
  std::vector<uint32_t> usual(m.components.size());
  for (size_t i = 0; i < m.components.size(); ++i) usual[i] = majority(m.components[i]);
  for (uint32_t i : m.shown_nodes) {
    const NodeView& n = m.nodes[i];
    std::vector<output::Cell> row(m.components.size() + 2, output::Cell("-", output::Style::dim));
    row[0] = n.id;
    row[1] = output::Cell(health_text(n.health), health_style(n.health));
    for (size_t ci = 0; ci < m.components.size(); ++ci) {
      const ComponentView& c = m.components[ci];
      uint32_t gi = c.group_of[i];
      if (gi == k_no_group) continue;
      const VersionGroup& g = c.versions[gi];
      output::Style style = (!c.declared.empty() && !g.declared) ? output::Style::bad
                            : gi != usual[ci]                    ? output::Style::warn
                                                                 : output::Style::plain;
      row[ci + 2] = output::Cell(short_version(g.version), style);
    }
    t.add(std::move(row));
  }
  return t;
}

output::Table long_table(const Matrix& m) {
  output::Table t({{"node_id", "NODE"},
                   {"healthy", "HEALTHY"},
                   {"component", "COMPONENT"},
                   {"version", "VERSION"},
                   {"declared", "DECLARED"},
                   {"consistent", "CONSISTENT"}});
  for (uint32_t i : m.shown_nodes) {
    const NodeView& n = m.nodes[i];
    for (const ComponentView& c : m.components) {
      if (c.group_of[i] == k_no_group) continue;
      const VersionGroup& g = c.versions[c.group_of[i]];
      t.add({n.id, healthy_cell(n.health), c.name, g.version, g.declared, c.consistent()});
    }
  }
  return t;
}

}  // namespace cube::versions
