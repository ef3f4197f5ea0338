#include "matrix.hpp"

#include "error.hpp"
#include "health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace cube::versions {
namespace {

bool declarable(const std::string& v) { return !v.empty() && v != "unknown"; }

void declare(Declared& d, const std::string& component, const std::string& version, bool replace) {
  if (!declarable(version)) return;
  auto& set = d[component];
  if (replace) set.clear();
  if (std::find(set.begin(), set.end(), version) == set.end()) set.push_back(version);
  std::sort(set.begin(), set.end());
}

// The node list in ID order, read from the rows themselves, built before the rows are walked so
// they can be matched to nodes by a forward walk instead of a hash lookup or a sort afterwards.
std::vector<NodeView> node_list(cluster::Tx& tx) {
  std::vector<NodeView> nodes;
  auto ids = tx.query("SELECT DISTINCT node_id FROM node_component_version ORDER BY node_id");
  while (ids.next()) nodes.push_back({std::string(ids.text(0)), Health::unknown, ""});
  return nodes;
}

// Rows arrive ordered by component, version, node ID: within one version group the node IDs only
// grow, so a cursor over the sorted node list finds each in amortised constant time. This is the
// slow path, for files whose report texts are missing or incomplete (see load_from_reports).
void load_rows(cluster::Tx& tx, const Declared& declared, const MatrixQuery& q, Matrix& m) {
  auto rows = tx.query(
      "SELECT component, version, node_id FROM node_component_version"
      " WHERE ($1 = '' OR component = $1) ORDER BY component, version, node_id",
      {q.component});
  uint32_t cursor = 0;
  while (rows.next()) {
    std::string_view comp = rows.text(0), ver = rows.text(1), node_id = rows.text(2);
    if (m.components.empty() || m.components.back().name != comp) {
      ComponentView c;
      c.name = comp;
      if (auto it = declared.find(c.name); it != declared.end()) c.declared = it->second;
      c.group_of.assign(m.nodes.size(), k_no_group);
      m.components.push_back(std::move(c));
    }
    ComponentView& c = m.components.back();
    if (c.versions.empty() || c.versions.back().version != ver) {
      VersionGroup g;
      g.version = ver;
      g.declared = std::find(c.declared.begin(), c.declared.end(), g.version) != c.declared.end();
      c.versions.push_back(std::move(g));
      cursor = 0;
    }
    while (cursor < m.nodes.size() && m.nodes[cursor].id < node_id) ++cursor;
    if (cursor == m.nodes.size() || m.nodes[cursor].id != node_id)
      throw Error(Exit::failed, fmt::format("internal error: node '{}' is not in the node list", node_id));
    c.versions.back().nodes.push_back(cursor);
    c.group_of[cursor] = static_cast<uint32_t>(c.versions.size() - 1);
  }
}

// Sorts components by name and each component's versions by string, renumbering the group
// indices the per-node arrays hold.
void sort_components(Matrix& m) {
  std::sort(m.components.begin(), m.components.end(),
            [](const ComponentView& a, const ComponentView& b) { return a.name < b.name; });
  for (auto& c : m.components) {
    std::vector<uint32_t> order(c.versions.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return c.versions[a].version < c.versions[b].version; });
    std::vector<uint32_t> rank(order.size());
    std::vector<VersionGroup> sorted;
    for (uint32_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = r;
      sorted.push_back(std::move(c.versions[order[r]]));
    }
    c.versions = std::move(sorted);
    for (auto& g : c.group_of)
      if (g != k_no_group) g = rank[g];
  }
}

// Maps the component and version names of report lines to indices in a Matrix. Reports repeat
// themselves: the k-th line of a node usually names the same component as the k-th line of the
// node before, at the same version as last time, so one comparison with that guess settles most
// lines before the maps are asked.
class LineIndex {
 public:
  LineIndex(Matrix& m, const Declared& declared, size_t node_count)
      : m_matrix(m), m_declared(declared), m_node_count(node_count) {}

  uint32_t component(size_t line_no, std::string_view name) {
    if (line_no < m_line_guess.size() && m_matrix.components[m_line_guess[line_no]].name == name)
      return m_line_guess[line_no];
    auto it = m_components.find(name);
    if (it == m_components.end()) it = m_components.emplace(std::string(name), add_component(name)).first;
    if (line_no >= m_line_guess.size()) m_line_guess.resize(line_no + 1);
    m_line_guess[line_no] = it->second;
    return it->second;
  }

  uint32_t group(uint32_t ci, std::string_view version) {
    ComponentView& c = m_matrix.components[ci];
    uint32_t& last = m_last_group[ci];
    if (last < c.versions.size() && c.versions[last].version == version) return last;
    auto it = m_versions[ci].find(version);
    if (it == m_versions[ci].end()) {
      VersionGroup g;
      g.version = version;
      g.declared = std::find(c.declared.begin(), c.declared.end(), g.version) != c.declared.end();
      it = m_versions[ci].emplace(g.version, static_cast<uint32_t>(c.versions.size())).first;
      c.versions.push_back(std::move(g));
    }
    return last = it->second;
  }

 private:
  uint32_t add_component(std::string_view name) {
    ComponentView c;
    c.name = name;
    if (auto it = m_declared.find(c.name); it != m_declared.end()) c.declared = it->second;
    c.group_of.assign(m_node_count, k_no_group);
    m_matrix.components.push_back(std::move(c));
    m_versions.emplace_back();
    m_last_group.push_back(k_no_group);
    return static_cast<uint32_t>(m_matrix.components.size() - 1);
  }

  Matrix& m_matrix;
  const Declared& m_declared;
  size_t m_node_count;
  std::map<std::string, uint32_t, std::less<>> m_components;
  std::vector<std::map<std::string, uint32_t, std::less<>>> m_versions;
  std::vector<uint32_t> m_line_guess, m_last_group;
};

int64_t count_rows(cluster::Tx& tx, const char* table) {
  auto count = tx.query(fmt::format("SELECT count(*) FROM {}", table));
  return count.next() ? count.integer(0) : 0;
}

// The fast path: one row per node, its report text parsed here. Returns false, leaving `m` to be
// reset, when the texts are not the whole truth: a node without text (written before migration
// 4) or rows that no text mentions (written by something other than ingest).
bool load_from_reports(cluster::Tx& tx, const Declared& declared, const MatrixQuery& q, Matrix& m) {
  size_t node_count = static_cast<size_t>(count_rows(tx, "node_version_report"));
  LineIndex index(m, declared, node_count);
  int64_t lines = 0;
  auto reports = tx.query("SELECT node_id, report FROM node_version_report ORDER BY node_id");
  while (reports.next()) {
    std::string_view text = reports.text(1);
    uint32_t node = static_cast<uint32_t>(m.nodes.size());
    if (text.empty() || node >= node_count) return false;
    m.nodes.push_back({std::string(reports.text(0)), Health::unknown, ""});
    for (size_t at = 0, line_no = 0; at < text.size(); ++line_no, ++lines) {
      size_t end = std::min(text.find('\n', at), text.size());
      std::string_view line = text.substr(at, end - at);
      at = end + 1;
      size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
      if (tab2 == std::string_view::npos) return false;
      std::string_view comp = line.substr(0, tab1), ver = line.substr(tab1 + 1, tab2 - tab1 - 1);
      if (!q.component.empty() && comp != q.component) continue;
      uint32_t ci = index.component(line_no, comp), gi = index.group(ci, ver);
      m.components[ci].versions[gi].nodes.push_back(node);
      m.components[ci].group_of[node] = gi;
    }
  }
  if (m.nodes.size() != node_count || count_rows(tx, "node_component_version") != lines) return false;
  sort_components(m);
  return true;
}

// Health for every registered node; registered nodes without versions join the list.
void load_registry(cluster::Tx& tx, const MatrixQuery& q, Matrix& m) {
  m.registry = true;  // cube-sched's tables exist wherever the cluster store is
  for (auto& n : m.nodes) n.reason = "NotRegistered";
  auto reg = tx.query(
      "SELECT n.id, COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0) FROM nodes n "
      "LEFT JOIN node_heartbeats h ON h.node_id = n.id ORDER BY n.id");
  std::vector<NodeView> extra;
  size_t cursor = 0;
  while (reg.next()) {
    std::string_view id = reg.text(0);
    while (cursor < m.nodes.size() && m.nodes[cursor].id < id) ++cursor;
    bool known = cursor < m.nodes.size() && m.nodes[cursor].id == id;
    NodeView& n = known ? m.nodes[cursor] : extra.emplace_back(NodeView{std::string(id), Health::unknown, ""});
    health::Status s = health::evaluate(reg.integer(1), reg.integer(2) != 0, q.now_ms, q.heartbeat_timeout_ms);
    n.health = s.healthy ? Health::healthy : Health::unhealthy;
    n.reason = health::reason_name(s.reason);
  }
  if (extra.empty()) return;
  // Merge the two ID-ordered lists, then renumber every node index the components hold.
  std::vector<NodeView> merged;
  merged.reserve(m.nodes.size() + extra.size());
  std::vector<uint32_t> rank(m.nodes.size());
  size_t a = 0, b = 0;
  while (a < m.nodes.size() || b < extra.size()) {
    bool take_a = b == extra.size() || (a < m.nodes.size() && m.nodes[a].id < extra[b].id);
    if (take_a) rank[a] = static_cast<uint32_t>(merged.size());
    merged.push_back(std::move(take_a ? m.nodes[a++] : extra[b++]));
  }
  for (auto& c : m.components) {
    std::vector<uint32_t> group_of(merged.size(), k_no_group);
    for (size_t i = 0; i < c.group_of.size(); ++i) group_of[rank[i]] = c.group_of[i];
    c.group_of = std::move(group_of);
    for (auto& g : c.versions)
      for (auto& n : g.nodes) n = rank[n];
  }
  m.nodes = std::move(merged);
}

}  // namespace

Declared declared_versions(const Manifest& m) {
  Declared d;
  for (const auto& [name, c] : m.components) declare(d, name, c.version, false);
  declare(d, "guest-image", m.guest_image.version, true);
  declare(d, "cube-agent", m.guest_image.agent_version, true);
  declare(d, "kernel", kernel_identity(m.kernel.version, m.kernel.vmlinux_digest_sha256), true);
  if (!m.kernel.vmlinux_pvm_digest_sha256.empty())
    declare(d, "kernel", kernel_identity(m.kernel.pvm_version, m.kernel.vmlinux_pvm_digest_sha256), false);
  return d;
}

Matrix load_matrix(cluster::Store& store, const Declared& declared, const MatrixQuery& q) {
  Matrix m;
  // One read snapshot, so the node list and the rows agree; every table is a cluster table.
  store.read([&](cluster::Tx& tx) {
    m = Matrix{};
    if (!load_from_reports(tx, declared, q, m)) {
      m = Matrix{};
      m.nodes = node_list(tx);
      load_rows(tx, declared, q, m);
    }
    if (!q.component.empty() && m.components.empty())
      throw Error(Exit::not_found, fmt::format("component '{}' not found", q.component), "no node reports it");
    load_registry(tx, q, m);
  });
  for (uint32_t i = 0; i < m.nodes.size(); ++i)
    if (q.node.empty() || m.nodes[i].id == q.node) m.shown_nodes.push_back(i);
  if (!q.node.empty() && m.shown_nodes.empty())
    throw Error(Exit::not_found, fmt::format("node '{}' not found", q.node),
                "it has reported no versions and is not in the node registry");
  return m;
}

std::vector<std::string> problems(const Matrix& m) {
  std::vector<std::string> out;
  std::vector<bool> shown(m.nodes.size(), false);
  for (uint32_t i : m.shown_nodes) shown[i] = true;
  auto names = [&](const VersionGroup& g) {
    std::vector<std::string_view> ids;
    for (uint32_t n : g.nodes) ids.push_back(m.nodes[n].id);
    if (ids.size() > 5)
      return fmt::format("{} and {} more", fmt::join(ids.begin(), ids.begin() + 5, ","), ids.size() - 5);
    return fmt::format("{}", fmt::join(ids, ","));
  };
  for (const auto& c : m.components) {
    bool involved = false;
    for (const auto& g : c.versions)
      for (uint32_t n : g.nodes) involved = involved || shown[n];
    if (!involved) continue;
    if (!c.consistent()) {
      std::vector<std::string> parts;
      for (const auto& g : c.versions) parts.push_back(fmt::format("{} on {}", g.version, names(g)));
      out.push_back(fmt::format("{} is skewed: {}", c.name, fmt::join(parts, "; ")));
    }
    if (c.declared.empty()) continue;
    for (const auto& g : c.versions) {
      if (g.declared || std::none_of(g.nodes.begin(), g.nodes.end(), [&](uint32_t n) { return shown[n]; })) continue;
      out.push_back(fmt::format("{} {} is not declared by the release (declared: {}), on {}", c.name,
                                g.version.empty() ? "\"\"" : g.version, fmt::join(c.declared, ", "), names(g)));
    }
  }
  return out;
}

}  // namespace cube::versions
