#include "commands.hpp"

#include "collect.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "log.hpp"
#include "matrix.hpp"
#include "matrix_view.hpp"
#include "output.hpp"
#include "report.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace cube::versions {
namespace {

constexpr uint64_t k_max_report_bytes = 4 << 20;

output::Table component_rows(const std::vector<Component>& rows) {
  output::Table t({{"component", "COMPONENT"},
                   {"version", "VERSION"},
                   {"commit", "COMMIT"},
                   {"build_time", "BUILT"},
                   {"source", "SOURCE"}});
  for (const auto& c : rows) t.add({c.component, c.version, c.commit, c.build_time, c.source});
  return t;
}

void print_ingest(const IngestResult& r, output::Format format) {
  output::Table t({{"node_id", "Node"},
                   {"components", "Components"},
                   {"changed", "Changed"},
                   {"upserted", "Upserted"},
                   {"deleted", "Deleted"}});
  t.add({r.node_id, r.components, r.changed, r.upserted, r.deleted});
  output::print_record(t, format);
}

// The declared versions: a manifest the user named must parse; the default one may be absent.
Declared load_declared(const ManifestPath& path) {
  if (path.named) return declared_versions(read_manifest(path.path));
  try {
    return declared_versions(read_manifest(path.path));
  } catch (const Error& e) {
    log::info("no declared versions: {}", e.message());
    return {};
  }
}

}  // namespace

Settings Commands::settings() {
  config::Settings s(m_tool.config(), "versions");
  return load_settings(s, flags);
}

void Commands::manifest() {
  if (manifest_inputs.bin_dir.empty()) manifest_inputs.bin_dir = executable_dir();
  std::string text = render_manifest(build_manifest(manifest_inputs));
  if (out == "-")
    output::write(text);
  else
    fs::atomic_write(out, text, 0644);
}

void Commands::collect() {
  Settings s = settings();
  ids::check(s.node, "node ID");
  if (jitter) time::sleep_ms(time::jittered_ms(s.interval_ms));
  Collected c = versions::collect({s.base, s.bin_dir, manifest_path(s.manifest, "", s.base), m_tool.name()});
  for (const auto& note : c.notes) log::info("{}", note);
  if (!report) return output::print(component_rows(c.components), m_tool.format());
  state::Db db = m_tool.open_state(state::Access::write);
  print_ingest(versions::ingest(db, s.node, c.components, time::now_ms()), m_tool.format());
}

void Commands::ingest() {
  ids::check(node, "node ID");
  std::vector<Component> rows = parse_report(fs::read_fd(STDIN_FILENO, k_max_report_bytes, "the report on stdin"));
  if (rows.empty()) log::warn("empty report for node {} ignored", node);
  state::Db db = m_tool.open_state(state::Access::write);
  print_ingest(versions::ingest(db, node, rows, time::now_ms()), m_tool.format());
}

void Commands::matrix() {
  Settings s = settings();
  if (!node.empty()) ids::check(node, "node ID");
  Declared declared = load_declared(manifest_path(s.manifest, "", s.base));
  state::Db db = m_tool.open_state(state::Access::read);
  Matrix m = load_matrix(db, declared, {component, node, time::now_ms(), s.heartbeat_timeout_ms});
  switch (m_tool.format()) {
    case output::Format::json: matrix_json(m, version::current(), output::write); break;
    case output::Format::jsonl:
    case output::Format::tsv: output::print(long_table(m), m_tool.format()); break;
    case output::Format::table:
      output::print(components_table(m), output::Format::table);
      output::write("\n");
      output::print(node_grid(m), output::Format::table);
      break;
  }
  if (!check) return;
  std::vector<std::string> found = problems(m);
  if (found.empty()) return;
  output::flush();  // the matrix first, then what is wrong with it
  for (const auto& p : found) log::error("{}", p);
  throw Error(Exit::check, "version check failed",
              fmt::format("{} problem{}", found.size(), found.size() == 1 ? "" : "s"));
}

void Commands::config() {
  config::Settings s(m_tool.config(), "versions");
  load_settings(s, flags);
  cli::print_settings(s, m_tool.format());
}

}  // namespace cube::versions
