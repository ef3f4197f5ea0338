#include "compat_matrix.hpp"

#include "error.hpp"
#include "health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace cube::versions {
namespace {

// Interns strings; versions repeat across thousands of rows, so the last value of each column is
// checked before the map.
class Pool {
 public:
  explicit Pool(std::vector<std::string>& strings) : m_strings(strings) {
    for (uint32_t i = 0; i < m_strings.size(); ++i) m_ids.emplace(m_strings[i], i);
  }
  uint32_t id(std::string_view s) {
    auto it = m_ids.find(std::string(s));
    if (it != m_ids.end()) return it->second;
    m_strings.emplace_back(s);
    return m_ids.emplace(m_strings.back(), static_cast<uint32_t>(m_strings.size() - 1)).first->second;
  }
  // The same, remembering the last answer for column `col`.
  uint32_t id(int col, std::string_view s) {
    auto& [text, id_] = m_last[col];
    if (id_ != UINT32_MAX && text == s) return id_;
    text = s;
    return id_ = id(s);
  }

 private:
  std::vector<std::string>& m_strings;
  std::unordered_map<std::string, uint32_t> m_ids;
  std::pair<std::string, uint32_t> m_last[8] = {{"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX},
                                                {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}};
};

CellStatus cell_of(compat::Status s) {
  return s == compat::Status::ok      ? CellStatus::ok
         : s == compat::Status::stale ? CellStatus::stale
                                      : CellStatus::unknown;
}

// Registered nodes, nodes with a replica and nodes with a report, sorted, with health and versions.
void load_nodes(state::Db& db, const CompatQuery& q, CompatMatrix& m, Pool& pool,
                std::unordered_map<std::string, uint32_t>& index) {
  std::map<std::string, CompatNode> nodes;
  auto reg = db.prepare("SELECT id, instance_type, heartbeat_ms, ready FROM nodes");
  while (reg.step()) {
    CompatNode& n = nodes[std::string(reg.text(0))];
    n.instance_type = reg.text(1);
    n.registered = true;
    n.healthy = health::evaluate(reg.integer(2), reg.integer(3) != 0, q.now_ms, q.heartbeat_timeout_ms).healthy;
  }
  auto rep = db.prepare("SELECT DISTINCT node_id FROM template_replicas");
  while (rep.step()) nodes[std::string(rep.text(0))];
  auto ver =
      db.prepare("SELECT node_id, component, version FROM node_component_version WHERE component IN (?1, ?2, ?3)");
  ver.bind_all(compat::k_guest_image, compat::k_agent, compat::k_kernel);
  while (ver.step()) {
    CompatNode& n = nodes[std::string(ver.text(0))];
    std::string_view c = ver.text(1);
    uint32_t v = pool.id(compat::normalise_version(ver.text(2)));
    (c == compat::k_guest_image ? n.guest_image : c == compat::k_agent ? n.agent : n.kernel) = v;
  }
  for (auto& [id, n] : nodes) {
    n.id = id;
    index.emplace(id, static_cast<uint32_t>(m.nodes.size()));
    m.nodes.push_back(std::move(n));
  }
}

void load_templates(state::Db& db, const CompatQuery& q, CompatMatrix& m) {
  auto t = db.prepare(
      "SELECT t.template_id, t.instance_type, COALESCE(c.policy, '') FROM templates t "
      "LEFT JOIN template_compat c ON c.template_id = t.template_id "
      "WHERE t.status = 'READY' AND (?1 = '' OR t.template_id = ?1) ORDER BY t.template_id");
  t.bind(1, q.template_id);
  while (t.step())
    m.templates.push_back({std::string(t.text(0)),
                           std::string(t.text(1)),
                           compat::parse_policy(t.text(2)).value_or(compat::Policy::strict),
                           CellStatus::ok,
                           {}});
}

// The statuses of live evaluation, remembered per (policy, bound, current): a matrix has few.
class Evaluator {
 public:
  explicit Evaluator(const CompatMatrix& m) : m_matrix(m) {}
  compat::Status operator()(compat::Policy p, const CompatCell& c, const CompatNode& n) {
    auto key = std::make_tuple(static_cast<int>(p), c.guest_image, c.agent, c.kernel, n.guest_image, n.agent, n.kernel);
    auto it = m_memo.find(key);
    if (it != m_memo.end()) return it->second;
    return m_memo[key] = compat::evaluate(m_matrix.bound(c), m_matrix.current(n), p);
  }

 private:
  const CompatMatrix& m_matrix;
  std::map<std::tuple<int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>, compat::Status> m_memo;
};

// Reads the replica rows in (template, node) order and merges them with each template's healthy
// nodes of its type.
void load_cells(state::Db& db, const CompatQuery& q, CompatMatrix& m, Pool& pool,
                const std::unordered_map<std::string, uint32_t>& index) {
  std::map<std::string, std::vector<uint32_t>> healthy_of_type;
  for (uint32_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].healthy) healthy_of_type[m.nodes[i].instance_type].push_back(i);
  auto rows = db.prepare(
      "SELECT template_id, node_id, status, guest_image_version, agent_version, kernel_version, compat_status, "
      "compat_checked_ms FROM template_replicas WHERE (?1 = '' OR template_id = ?1) ORDER BY template_id, node_id");
  rows.bind(1, q.template_id);
  bool more = rows.step();
  Evaluator eval(m);
  static const std::vector<uint32_t> none;
  std::vector<CompatCell> replicas;  // one template's, reused: reallocating per template shows up at scale
  for (CompatTemplate& t : m.templates) {
    while (more && rows.text(0) < t.id) more = rows.step();
    replicas.clear();
    for (; more && rows.text(0) == t.id; more = rows.step()) {
      CompatCell c;
      c.node = index.at(std::string(rows.text(1)));
      c.replica = true;
      c.replica_status = pool.id(0, rows.text(2));
      c.guest_image = pool.id(1, compat::normalise_version(rows.text(3)));
      c.agent = pool.id(2, compat::normalise_version(rows.text(4)));
      c.kernel = pool.id(3, compat::normalise_version(rows.text(5)));
      c.stored = compat::parse_status(rows.text(6));
      c.checked_ms = rows.integer(7);
      const CompatNode& n = m.nodes[c.node];
      if (m.text(c.replica_status) != "READY")
        c.status = CellStatus::missing;
      else
        c.status = cell_of(n.healthy ? eval(t.policy, c, n) : compat::rescan(c.stored, {}, std::nullopt, t.policy));
      replicas.push_back(c);
    }
    auto it = healthy_of_type.find(t.instance_type);
    const std::vector<uint32_t>& healthy = it == healthy_of_type.end() ? none : it->second;
    t.cells.reserve(std::max(replicas.size(), healthy.size()));
    size_t a = 0, b = 0;
    while (a < replicas.size() || b < healthy.size()) {
      bool take_replica = b == healthy.size() || (a < replicas.size() && replicas[a].node <= healthy[b]);
      if (take_replica) {
        const CompatCell& c = replicas[a];
        if (b < healthy.size() && healthy[b] == c.node) ++b;
        const CompatNode& n = m.nodes[c.node];
        bool in_set = c.status != CellStatus::missing || (n.healthy && n.instance_type == t.instance_type);
        if (in_set) t.cells.push_back(c);
        ++a;
      } else {
        CompatCell c;
        c.node = healthy[b++];
        t.cells.push_back(c);
      }
    }
  }
}

void summarise(const CompatQuery& q, CompatMatrix& m) {
  std::vector<bool> affected(m.nodes.size(), false);
  for (CompatTemplate& t : m.templates) {
    if (!q.node.empty()) std::erase_if(t.cells, [&](const CompatCell& c) { return m.nodes[c.node].id != q.node; });
    std::optional<CellStatus> first;
    bool stale = false;
    for (const CompatCell& c : t.cells) {
      if (c.status == CellStatus::stale) {
        stale = true;
        affected[c.node] = true;
        ++m.summary.stale_replicas;
      } else if (c.status != CellStatus::ok && !first) {
        first = c.status;
      }
      m.summary.missing_replicas += c.status == CellStatus::missing;
      m.summary.unknown_replicas += c.status == CellStatus::unknown;
    }
    t.overall = stale ? CellStatus::stale : first.value_or(CellStatus::ok);
    m.summary.stale_templates += stale;
  }
  m.summary.affected_nodes = std::count(affected.begin(), affected.end(), true);
}

}  // namespace

std::string_view cell_status_name(CellStatus s) {
  switch (s) {
    case CellStatus::ok: return "OK";
    case CellStatus::stale: return "STALE";
    case CellStatus::unknown: return "UNKNOWN";
    case CellStatus::missing: return "MISSING";
  }
  return "";
}

compat::Versions CompatMatrix::current(const CompatNode& n) const {
  return {text(n.guest_image), text(n.agent), text(n.kernel)};
}

compat::Versions CompatMatrix::bound(const CompatCell& c) const {
  return {text(c.guest_image), text(c.agent), text(c.kernel)};
}

CompatMatrix load_compat(state::Db& db, const CompatQuery& q) {
  CompatMatrix m;
  Pool pool(m.strings);
  std::unordered_map<std::string, uint32_t> index;
  db.exec("BEGIN");  // one snapshot for every table read
  load_nodes(db, q, m, pool, index);
  load_templates(db, q, m);
  load_cells(db, q, m, pool, index);
  db.exec("COMMIT");
  if (!q.template_id.empty() && m.templates.empty())
    throw Error(Exit::not_found, fmt::format("template {} not found", q.template_id), "no READY template has that ID",
                "cube-rootfs list shows the templates");
  if (!q.node.empty() && !index.count(q.node))
    throw Error(Exit::not_found, fmt::format("node '{}' not found", q.node),
                "it is not registered, holds no replica and has reported no versions");
  summarise(q, m);
  return m;
}

std::string version_delta(const std::string& bound, const std::string& current) {
  if (bound.empty() && current.empty()) return {};
  return fmt::format("{} -> {}", bound.empty() ? "?" : bound, current.empty() ? "?" : current);
}

std::vector<std::string> stale_replicas(const CompatMatrix& m) {
  std::vector<std::string> out;
  for (const CompatTemplate& t : m.templates)
    for (const CompatCell& c : t.cells) {
      if (c.status != CellStatus::stale) continue;
      const CompatNode& n = m.nodes[c.node];
      compat::Versions b = m.bound(c), cur = m.current(n);
      std::vector<std::string> what;
      if (!n.healthy) {
        what.push_back("node not healthy, stale when last checked");
      } else {
        if (b.guest_image != cur.guest_image)
          what.push_back("guest-image " + version_delta(b.guest_image, cur.guest_image));
        if (compat::compares_agent(t.policy) && b.agent != cur.agent)
          what.push_back("cube-agent " + version_delta(b.agent, cur.agent));
        if (compat::compares_kernel(t.policy) && b.kernel != cur.kernel)
          what.push_back("kernel " + version_delta(b.kernel, cur.kernel));
      }
      out.push_back(fmt::format("stale replica: template {} on node {} ({})", t.id, n.id, fmt::join(what, ", ")));
    }
  return out;
}

}  // namespace cube::versions
