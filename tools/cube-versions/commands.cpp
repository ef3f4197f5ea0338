// The verbs of cube-versions: flags in, module calls, results out through common/output.
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
#include "stores.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace cube::versions::cmd {
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
                   {"deleted", "Deleted"},
                   {"rescanned", "Replicas rescanned"}});
  t.add({r.node_id, r.components, r.changed, r.upserted, r.deleted, r.rescanned});
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

Settings settings(cli::Context& ctx, const SettingFlags& flags) {
  config::Settings s(ctx.config(), "versions");
  return load_settings(s, flags);
}

}  // namespace

void manifest(cli::Context&, const ManifestArgs& a) {
  ManifestInputs in = a.inputs;
  if (in.bin_dir.empty()) in.bin_dir = executable_dir();
  std::string text = render_manifest(build_manifest(in));
  if (a.out == "-")
    output::write(text);
  else
    fs::atomic_write(a.out, text, 0644);
}

void collect(cli::Context& ctx, const CollectArgs& a) {
  Settings s = settings(ctx, a.settings);
  ids::check(s.node, "node ID");
  if (a.jitter) time::sleep_ms(time::jittered_ms(s.interval_ms));
  Collected c = versions::collect({s.base, s.bin_dir, manifest_path(s.manifest, "", s.base), ctx.name()});
  for (const auto& note : c.notes) log::info("{}", note);
  if (!a.report) return output::print(component_rows(c.components), ctx.format());
  Stores stores(ctx, cluster::Access::write);
  print_ingest(versions::ingest(stores, s.node, c.components, {time::now_ms(), s.heartbeat_timeout_ms}), ctx.format());
}

void ingest(cli::Context& ctx, const IngestArgs& a) {
  ids::check(a.node, "node ID");
  std::vector<Component> rows = parse_report(fs::read_fd(STDIN_FILENO, k_max_report_bytes, "the report on stdin"));
  if (rows.empty()) log::warn("empty report for node {} ignored", a.node);
  config::Settings cfg(ctx.config(), "versions");
  int64_t timeout = load_settings(cfg, {}).heartbeat_timeout_ms;
  Stores stores(ctx, cluster::Access::write);
  print_ingest(versions::ingest(stores, a.node, rows, {time::now_ms(), timeout}), ctx.format());
}

void matrix(cli::Context& ctx, const MatrixArgs& a) {
  Settings s = settings(ctx, a.settings);
  if (!a.node.empty()) ids::check(a.node, "node ID");
  Declared declared = load_declared(manifest_path(s.manifest, "", s.base));
  Stores stores(ctx, cluster::Access::read);
  Matrix m = load_matrix(stores.cluster(), declared, {a.component, a.node, time::now_ms(), s.heartbeat_timeout_ms});
  switch (ctx.format()) {
    case output::Format::json: matrix_json(m, version::current(), output::write); break;
    case output::Format::jsonl:
    case output::Format::tsv: output::print(long_table(m), ctx.format()); break;
    case output::Format::table:
      output::print(components_table(m), output::Format::table);
      output::write("\n");
      output::print(node_grid(m), output::Format::table);
      break;
  }
  if (!a.check) return;
  std::vector<std::string> found = problems(m);
  if (found.empty()) return;
  output::flush();  // the matrix first, then what is wrong with it
  for (const auto& p : found) log::error("{}", p);
  throw Error(Exit::check, "version check failed",
              fmt::format("{} problem{}", found.size(), found.size() == 1 ? "" : "s"));
}

void config(cli::Context& ctx) {
  config::Settings s(ctx.config(), "versions");
  load_settings(s, {});
  cluster::Choice where = ctx.cluster_choice();
  cli::print_settings(s, ctx.format(), &where);
}

}  // namespace cube::versions::cmd
