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

// A hash map from text to an index that is searched with the string_view a statement hands out,
// without copying it into a std::string first.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TextIndex = std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>>;

uint32_t find_index(const TextIndex& index, std::string_view key) {
  auto it = index.find(key);
  return it == index.end() ? UINT32_MAX : it->second;
}

// Interns strings. Versions repeat across a quarter of a million rows: each column remembers its
// last raw text, and a raw version seen before maps straight to its normalised string, so most rows
// cost a comparison rather than a normalisation and a hash.
class Pool {
 public:
  explicit Pool(std::vector<std::string>& strings) : m_strings(strings) {
    for (uint32_t i = 0; i < m_strings.size(); ++i) m_ids.emplace(m_strings[i], i);
  }
  uint32_t id(std::string_view s) {
    uint32_t found = find_index(m_ids, s);
    if (found != UINT32_MAX) return found;
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
  // The ID of compat::normalise_version(raw), remembering the last answer for column `col`.
  uint32_t version_id(int col, std::string_view raw) {
    auto& [text, id_] = m_last[col];
    if (id_ != UINT32_MAX && text == raw) return id_;
    text = raw;
    id_ = find_index(m_raw_versions, raw);
    if (id_ == UINT32_MAX) {
      id_ = id(compat::normalise_version(raw));
      m_raw_versions.emplace(raw, id_);
    }
    return id_;
  }

 private:
  std::vector<std::string>& m_strings;
  TextIndex m_ids, m_raw_versions;
  std::pair<std::string, uint32_t> m_last[8] = {{"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX},
                                                {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}, {"", UINT32_MAX}};
};

// Pool columns: each caches its own last value.
enum PoolColumn { k_replica_status, k_bound_guest_image, k_bound_agent, k_bound_kernel, k_current_version };

CellStatus cell_of(compat::Status s) {
  return s == compat::Status::ok      ? CellStatus::ok
         : s == compat::Status::stale ? CellStatus::stale
                                      : CellStatus::unknown;
}

// Every node holding a replica, in ID order. A skip scan of the (node_id, compat_status) index,
// one seek per node: SELECT DISTINCT would read an index entry per replica.
constexpr const char* k_replica_nodes =
    "WITH RECURSIVE n(id) AS (SELECT min(node_id) FROM template_replicas UNION ALL "
    "SELECT (SELECT min(node_id) FROM template_replicas WHERE node_id > n.id) FROM n WHERE n.id IS NOT NULL) "
    "SELECT id FROM n WHERE id IS NOT NULL";

// Registered nodes, nodes with a replica and nodes with a report, sorted, with health and versions.
// The registry and the versions are cluster tables, the replicas the state file's: each is read
// from its own store and the three are joined here, by node ID (stores.hpp).
void load_nodes(Both& both, const CompatQuery& q, CompatMatrix& m, Pool& pool, TextIndex& index) {
  std::map<std::string, CompatNode, std::less<>> nodes;
  auto node = [&](std::string_view id) -> CompatNode& {
    auto it = nodes.find(id);
    return it != nodes.end() ? it->second : nodes[std::string(id)];
  };
  cluster::Tx& tx = both.cluster();
  auto reg = tx.query(
      "SELECT n.id, n.instance_type, COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0) FROM nodes n "
      "LEFT JOIN node_heartbeats h ON h.node_id = n.id");
  while (reg.next()) {
    CompatNode& n = node(reg.text(0));
    n.instance_type = reg.text(1);
    n.registered = true;
    n.healthy = health::evaluate(reg.integer(2), reg.integer(3) != 0, q.now_ms, q.heartbeat_timeout_ms).healthy;
  }
  auto rep = both.local().prepare(k_replica_nodes);
  while (rep.step()) node(rep.text(0));
  auto ver = tx.query("SELECT node_id, component, version FROM node_component_version WHERE component IN ($1, $2, $3)",
                      {compat::k_guest_image, compat::k_agent, compat::k_kernel});
  while (ver.next()) {
    CompatNode& n = node(ver.text(0));
    std::string_view c = ver.text(1);
    uint32_t v = pool.version_id(k_current_version, ver.text(2));
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

// The statuses of live evaluation, remembered per (policy, bound, current): a matrix has few, and
// consecutive cells mostly ask the same question, so the last answer is checked first.
class Evaluator {
 public:
  explicit Evaluator(const CompatMatrix& m) : m_matrix(m) {}
  compat::Status operator()(compat::Policy p, const CompatCell& c, const CompatNode& n) {
    Key key{static_cast<int>(p), c.guest_image, c.agent, c.kernel, n.guest_image, n.agent, n.kernel};
    if (m_last && m_last->first == key) return m_last->second;
    auto it = m_memo.find(key);
    if (it == m_memo.end()) it = m_memo.emplace(key, compat::evaluate(m_matrix.bound(c), m_matrix.current(n), p)).first;
    m_last = &*it;
    return it->second;
  }

 private:
  using Key = std::tuple<int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>;
  const CompatMatrix& m_matrix;
  std::map<Key, compat::Status> m_memo;
  const std::pair<const Key, compat::Status>* m_last = nullptr;
};

// Finds a replica row's node. Each template's rows mostly list the nodes of its type in the order
// the previous template's did, so the node that followed the last one found then is tried before
// the hash map: one short comparison instead of hashing the ID.
class NodeFinder {
 public:
  NodeFinder(const CompatMatrix& m, const TextIndex& index) : m_matrix(m), m_index(index), m_next(m.nodes.size(), 0) {}
  uint32_t find(std::string_view id) {
    uint32_t guess = m_last == UINT32_MAX ? 0 : m_next[m_last];
    uint32_t found = guess < m_matrix.nodes.size() && m_matrix.nodes[guess].id == id ? guess : find_index(m_index, id);
    if (found == UINT32_MAX)  // load_nodes read every replica's node in the same snapshot
      throw Error(Exit::failed, fmt::format("internal: replica on node {} of no node list", id));
    if (m_last != UINT32_MAX) m_next[m_last] = found;
    return m_last = found;
  }

 private:
  const CompatMatrix& m_matrix;
  const TextIndex& m_index;
  std::vector<uint32_t> m_next;  // per node, the node found after it last time
  uint32_t m_last = UINT32_MAX;
};

// The replica rows of the shown templates, as cells (node index, binding, status) per template.
// The table is read in its own order: walking the (template_id, node_id) key instead costs a seek
// into the table per row, more than putting the rows in order here. Rows of other templates (not
// READY, or filtered out) are skipped.
std::vector<std::vector<CompatCell>> read_replicas(state::Db& db, const CompatQuery& q, const CompatMatrix& m,
                                                   Pool& pool, const TextIndex& node_index) {
  TextIndex template_index;
  for (uint32_t i = 0; i < m.templates.size(); ++i) template_index.emplace(m.templates[i].id, i);
  // Only one template's detail view shows when each cell was checked; the whole matrix leaves the
  // column out, as every column read costs a measurable share of a quarter of a million rows.
  std::string sql =
      "SELECT template_id, node_id, status, guest_image_version, agent_version, kernel_version, compat_status, ";
  sql += q.template_id.empty() ? "0 FROM template_replicas"
                               : "compat_checked_ms FROM template_replicas WHERE template_id = ?1";
  auto rows = db.prepare(sql);
  if (!q.template_id.empty()) rows.bind(1, q.template_id);
  std::vector<std::vector<CompatCell>> out(m.templates.size());
  std::string last_template;
  uint32_t t = UINT32_MAX;
  Evaluator eval(m);
  NodeFinder nodes(m, node_index);
  while (rows.step()) {
    if (rows.text(0) != last_template) {  // rows mostly come a template at a time
      last_template = rows.text(0);
      t = find_index(template_index, last_template);
    }
    if (t == UINT32_MAX) continue;
    CompatCell c;
    c.node = nodes.find(rows.text(1));
    c.replica = true;
    c.replica_status = pool.id(k_replica_status, rows.text(2));
    c.guest_image = pool.version_id(k_bound_guest_image, rows.text(3));
    c.agent = pool.version_id(k_bound_agent, rows.text(4));
    c.kernel = pool.version_id(k_bound_kernel, rows.text(5));
    c.checked_ms = rows.integer(7);
    const CompatNode& n = m.nodes[c.node];
    const compat::Policy policy = m.templates[t].policy;
    if (m.text(c.replica_status) != "READY") {
      c.status = CellStatus::missing;
    } else if (n.healthy) {
      c.status = cell_of(eval(policy, c, n));
    } else {  // the stored status matters only where the node's versions do not count
      c.stored = compat::parse_status(rows.text(6));
      c.status = cell_of(compat::rescan(c.stored, {}, std::nullopt, policy));
    }
    out[t].push_back(c);
  }
  return out;
}

// Whether a replica cell belongs to the template's node set: a READY one always, another only on a
// healthy node of the template's type.
bool in_set(const CompatMatrix& m, const CompatTemplate& t, const CompatCell& c) {
  const CompatNode& n = m.nodes[c.node];
  return c.status != CellStatus::missing || (n.healthy && n.instance_type == t.instance_type);
}

// The template's cells: its replicas in node order merged with the healthy nodes of its type,
// MISSING where they hold no replica.
void merge_cells(const CompatMatrix& m, CompatTemplate& t, std::vector<CompatCell>& replicas,
                 const std::vector<uint32_t>& healthy) {
  auto by_node = [](const CompatCell& a, const CompatCell& b) { return a.node < b.node; };
  if (!std::is_sorted(replicas.begin(), replicas.end(), by_node)) std::sort(replicas.begin(), replicas.end(), by_node);
  t.cells.reserve(std::max(replicas.size(), healthy.size()));
  size_t a = 0, b = 0;
  while (a < replicas.size() || b < healthy.size()) {
    bool take_replica = b == healthy.size() || (a < replicas.size() && replicas[a].node <= healthy[b]);
    if (take_replica) {
      const CompatCell& c = replicas[a++];
      if (b < healthy.size() && healthy[b] == c.node) ++b;
      if (in_set(m, t, c)) t.cells.push_back(c);
    } else {
      CompatCell c;
      c.node = healthy[b++];
      t.cells.push_back(c);
    }
  }
}

void load_cells(state::Db& db, const CompatQuery& q, CompatMatrix& m, Pool& pool, const TextIndex& index) {
  std::map<std::string, std::vector<uint32_t>, std::less<>> healthy_of_type;
  for (uint32_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].healthy) healthy_of_type[m.nodes[i].instance_type].push_back(i);
  std::vector<std::vector<CompatCell>> replicas = read_replicas(db, q, m, pool, index);
  static const std::vector<uint32_t> none;
  for (size_t i = 0; i < m.templates.size(); ++i) {
    CompatTemplate& t = m.templates[i];
    auto it = healthy_of_type.find(t.instance_type);
    merge_cells(m, t, replicas[i], it == healthy_of_type.end() ? none : it->second);
    std::vector<CompatCell>().swap(replicas[i]);  // its memory serves the next template's cells
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

CompatMatrix load_compat(Stores& stores, const CompatQuery& q) {
  CompatMatrix m;
  TextIndex index;
  // One snapshot of each store (of the one file, on SQLite) for every table read.
  stores.read([&](Both& both) {
    m = CompatMatrix{};
    Pool pool(m.strings);
    TextIndex fresh;
    load_nodes(both, q, m, pool, fresh);
    load_templates(both.local(), q, m);
    load_cells(both.local(), q, m, pool, fresh);
    index = std::move(fresh);
  });
  if (!q.template_id.empty() && m.templates.empty())
    throw Error(Exit::not_found, fmt::format("template {} not found", q.template_id), "no READY template has that ID",
                "cube-rootfs list shows the templates");
  if (!q.node.empty() && !index.contains(q.node))
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
