#include "report.hpp"

#include "compat_store.hpp"
#include "error.hpp"
#include "sha256.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace cube::versions {

std::vector<cluster::Table> cluster_tables() {
  using K = cluster::Param::Kind;
  return {
      {"node_component_version",
       {{"id", K::integer},
        {"node_id", K::text},
        {"component", K::text},
        {"version", K::text},
        {"commit", K::text},
        {"build_time", K::text},
        {"source", K::text},
        {"reported_ms", K::integer},
        {"created_ms", K::integer},
        {"updated_ms", K::integer}},
       "id"},
      {"node_version_report",
       {{"node_id", K::text}, {"report_hash", K::text}, {"reported_ms", K::integer}, {"report", K::text}},
       ""},
  };
}

namespace {

using nlohmann::json;

[[noreturn]] void bad_line(size_t line, std::string why) {
  throw Error(Exit::usage, fmt::format("report line {} is invalid", line), std::move(why),
              "each line must be a JSON object like cube-versions collect -o jsonl writes");
}

std::string member(const json& obj, const char* key, size_t line, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) bad_line(line, fmt::format("'{}' is missing", key));
    return {};
  }
  if (!it->is_string()) bad_line(line, fmt::format("'{}' must be a string", key));
  return it->get<std::string>();
}

}  // namespace

std::vector<Component> parse_report(std::string_view jsonl) {
  std::vector<Component> rows;
  std::set<std::string> seen;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl = nl == std::string_view::npos ? std::string_view{} : jsonl.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json obj = json::parse(line, nullptr, false);
    if (obj.is_discarded()) bad_line(line_no, "not valid JSON");
    if (!obj.is_object()) bad_line(line_no, "expected a JSON object");
    Component c{member(obj, "component", line_no, true), member(obj, "version", line_no, true),
                member(obj, "commit", line_no, false), member(obj, "build_time", line_no, false),
                member(obj, "source", line_no, false)};
    if (std::string why = invalid_reason(c); !why.empty()) bad_line(line_no, why);
    if (!seen.insert(c.component).second) bad_line(line_no, fmt::format("component '{}' appears twice", c.component));
    if (rows.size() >= k_max_components_per_node)
      bad_line(line_no, fmt::format("more than {} components", k_max_components_per_node));
    rows.push_back(std::move(c));
  }
  return rows;
}

namespace {

// The components the node has rows for now, to delete what the report no longer names: one
// statement both backends accept, where a temporary table of the reported names was SQLite's.
std::vector<std::string> stored_components(cluster::Tx& tx, const std::string& node_id) {
  std::vector<std::string> out;
  auto q = tx.query("SELECT component FROM node_component_version WHERE node_id = $1", {node_id});
  while (q.next()) out.emplace_back(q.text(0));
  return out;
}

// One attempt at recording the report, inside the cluster's transaction; a rerun overwrites `r`.
void record(Both& both, const std::string& node_id, const std::vector<Component>& rows, const std::string& text,
            const std::string& hash, const Clock& clock, IngestResult& r) {
  cluster::Tx& tx = both.cluster();
  r.changed = false;
  r.upserted = r.deleted = 0;
  r.rescanned = 0;
  auto last = tx.query("SELECT report_hash FROM node_version_report WHERE node_id = $1", {node_id});
  if (last.next() && last.text(0) == hash) return;  // unchanged: nothing written, the transaction commits empty
  compat::Versions before = compat::recorded_versions(tx, node_id);
  for (const Component& c : rows)
    tx.exec(
        "INSERT INTO node_component_version"
        " (node_id, component, version, \"commit\", build_time, source, reported_ms, created_ms, updated_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)"
        " ON CONFLICT (node_id, component) DO UPDATE SET version = excluded.version, \"commit\" = excluded.\"commit\","
        " build_time = excluded.build_time, source = excluded.source, reported_ms = excluded.reported_ms,"
        " updated_ms = excluded.updated_ms",
        {node_id, c.component, c.version, c.commit, c.build_time, c.source, clock.now_ms});
  r.upserted = static_cast<int>(rows.size());
  // Whatever this report did not name is gone from the node: delete it (no soft delete:
  // doc/cube-versions.md, "Recording a report").
  std::set<std::string_view> named;
  for (const Component& c : rows) named.insert(c.component);
  for (const std::string& component : stored_components(tx, node_id))
    if (!named.count(component))
      r.deleted += static_cast<int>(
          tx.exec("DELETE FROM node_component_version WHERE node_id = $1 AND component = $2", {node_id, component}));
  tx.exec(
      "INSERT INTO node_version_report (node_id, report_hash, reported_ms, report) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (node_id) DO UPDATE SET report_hash = excluded.report_hash, reported_ms = excluded.reported_ms,"
      " report = excluded.report",
      {node_id, hash, clock.now_ms, text});
  // A changed guest image, agent or kernel makes the node's replicas worth a look, in this same
  // transaction, so no replica bound in between is missed (doc/cube-versions.md; stores.hpp).
  Changed changed = changed_between(before, compat::recorded_versions(tx, node_id));
  if (changed.any()) r.rescanned = rescan_node(both, node_id, clock, &changed).checked;
  r.changed = true;
}

}  // namespace

IngestResult ingest(Stores& stores, const std::string& node_id, const std::vector<Component>& rows,
                    const Clock& clock) {
  IngestResult result{node_id, rows.size(), false, 0, 0, 0};
  if (rows.empty()) return result;
  std::string text = report_text(rows);
  std::string hash = sha256_hex(text);
  stores.write([&](Both& both) { record(both, node_id, rows, text, hash, clock, result); });
  return result;
}

}  // namespace cube::versions
