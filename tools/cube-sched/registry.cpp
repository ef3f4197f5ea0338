#include "registry.hpp"

#include "error.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace cube::sched {

std::vector<cluster::Table> cluster_tables() {
  using K = cluster::Param::Kind;
  return {
      {"nodes",
       {{"id", K::text},
        {"address", K::text},
        {"instance_type", K::text},
        {"zone", K::text},
        {"cluster_id", K::text},
        {"cpu_type", K::text},
        {"cpu_m", K::integer},
        {"mem_bytes", K::integer},
        {"max_sandboxes", K::integer},
        {"cordoned", K::integer},
        {"registered_ms", K::integer}},
       ""},
      {"node_heartbeats",
       {{"node_id", K::text},
        {"heartbeat_ms", K::integer},
        {"ready", K::integer},
        {"cpu_util", K::real},
        {"mem_free_bytes", K::integer},
        {"disk_used_percent", K::real}},
       ""},
      {"node_labels", {{"node_id", K::text}, {"key", K::text}, {"value", K::text}}, ""},
      {"allocations",
       {{"sandbox_id", K::text},
        {"node_id", K::text},
        {"cpu_m", K::integer},
        {"mem_bytes", K::integer},
        {"created_ms", K::integer},
        {"started_ms", K::integer}},
       ""},
  };
}

namespace {

// Columns 0-14: the registration and the allocation totals, from nodes and `a` (k_totals).
constexpr std::string_view k_node_columns = R"(
  SELECT n.id, n.address, n.instance_type, n.zone, n.cluster_id, n.cpu_type, n.cpu_m, n.mem_bytes,
         n.max_sandboxes, n.cordoned, n.registered_ms,
         COALESCE(a.cpu, 0), COALESCE(a.mem, 0), COALESCE(a.c, 0), COALESCE(a.creating, 0))";
// Columns 15-19: the heartbeat, from `h`; a node without a row never sent one.
constexpr std::string_view k_heartbeat_columns = R"(,
         COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0), COALESCE(h.cpu_util, 0),
         COALESCE(h.mem_free_bytes, 0), COALESCE(h.disk_used_percent, 0))";
constexpr std::string_view k_heartbeat_join = " LEFT JOIN node_heartbeats h ON h.node_id = n.id";
// The allocation totals per node ($1: creating_after), over the allocations {} selects: one node's
// inside a placement, so that PostgreSQL's serializable check sees only what that node's
// placements touch.
constexpr std::string_view k_totals = R"( LEFT JOIN
       (SELECT node_id, SUM(cpu_m) AS cpu, SUM(mem_bytes) AS mem, COUNT(*) AS c,
               SUM(CASE WHEN started_ms = 0 AND created_ms > $1 THEN 1 ELSE 0 END) AS creating
        FROM allocations {} GROUP BY node_id) a
       ON a.node_id = n.id)";

constexpr std::string_view k_alloc_select =
    "SELECT sandbox_id, node_id, cpu_m, mem_bytes, created_ms, started_ms FROM allocations";

Allocation allocation_of(const cluster::Rows& r) {
  return {std::string(r.text(0)), std::string(r.text(1)), r.integer(2), r.integer(3), r.integer(4), r.integer(5)};
}

NodeRow row_of(const cluster::Rows& s) {
  NodeRow r;
  r.reg.id = s.text(0);
  r.reg.address = s.text(1);
  r.reg.instance_type = s.text(2);
  r.reg.zone = s.text(3);
  r.reg.cluster_id = s.text(4);
  r.reg.cpu_type = s.text(5);
  r.reg.cpu_m = s.integer(6);
  r.reg.mem_bytes = s.integer(7);
  r.reg.max_sandboxes = s.integer(8);
  r.cordoned = s.integer(9) != 0;
  r.registered_ms = s.integer(10);
  r.alloc_cpu_m = s.integer(11);
  r.alloc_mem = s.integer(12);
  r.sandboxes = s.integer(13);
  r.creating = s.integer(14);
  return r;
}

void set_heartbeat(NodeRow& r, const Heartbeat& hb) {
  r.heartbeat_ms = hb.at_ms;
  r.ready = hb.ready;
  r.cpu_util = hb.cpu_util;
  r.mem_free = hb.mem_free;
  r.disk_used = hb.disk_used;
}

// The heartbeat in columns `first`…`first + 4`.
Heartbeat heartbeat_of(const cluster::Rows& s, int first) {
  return {s.integer(first), s.integer(first + 1) != 0, s.real(first + 2), s.integer(first + 3), s.real(first + 4)};
}

NodeRow row_with_heartbeat(const cluster::Rows& s) {
  NodeRow r = row_of(s);
  set_heartbeat(r, heartbeat_of(s, 15));
  return r;
}

[[noreturn]] void no_node(const std::string& id) {
  throw Error(Exit::not_found, fmt::format("node '{}' is not registered", id), "", "see 'cube-sched node list'");
}

}  // namespace

std::vector<std::string> register_node(cluster::Store& store, const Registration& reg) {
  std::vector<std::string> dropped;
  int64_t now_ms = time::now_ms();
  store.write([&](cluster::Tx& tx) {
    dropped.clear();  // a retried transaction starts again
    tx.exec(R"(INSERT INTO nodes (id, address, instance_type, zone, cluster_id, cpu_type, cpu_m, mem_bytes,
                                  max_sandboxes, registered_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (id) DO UPDATE SET address = excluded.address, instance_type = excluded.instance_type,
                 zone = excluded.zone, cluster_id = excluded.cluster_id, cpu_type = excluded.cpu_type,
                 cpu_m = excluded.cpu_m, mem_bytes = excluded.mem_bytes, max_sandboxes = excluded.max_sandboxes,
                 registered_ms = excluded.registered_ms)",
            {reg.id, reg.address, reg.instance_type, reg.zone, reg.cluster_id, reg.cpu_type, reg.cpu_m, reg.mem_bytes,
             reg.max_sandboxes, now_ms});
    tx.exec("DELETE FROM node_labels WHERE node_id = $1", {reg.id});
    for (const auto& [key, value] : reg.labels) {
      if (is_canonical_label(full_label_key(key))) {
        dropped.push_back(key);
        continue;
      }
      // A key given twice: the last value wins.
      tx.exec(
          "INSERT INTO node_labels (node_id, key, value) VALUES ($1, $2, $3) "
          "ON CONFLICT (node_id, key) DO UPDATE SET value = excluded.value",
          {reg.id, key, value});
    }
  });
  return dropped;
}

int64_t remove_node(cluster::Store& store, const std::string& id, bool force) {
  int64_t n = 0;
  store.write([&](cluster::Tx& tx) {
    if (!tx.query("SELECT 1 FROM nodes WHERE id = $1", {id}).next()) no_node(id);
    auto count = tx.query("SELECT COUNT(*) FROM allocations WHERE node_id = $1", {id});
    count.next();
    n = count.integer(0);
    if (n > 0 && !force)
      throw Error(Exit::conflict, fmt::format("node '{}' still holds {} allocation{}", id, n, n == 1 ? "" : "s"), "",
                  "release them first, or pass --force to drop them with the node");
    tx.exec("DELETE FROM nodes WHERE id = $1", {id});
  });
  return n;
}

void set_cordoned(cluster::Store& store, const std::string& id, bool cordoned) {
  store.write([&](cluster::Tx& tx) {
    if (tx.exec("UPDATE nodes SET cordoned = $1 WHERE id = $2", {cordoned ? 1 : 0, id}) == 0) no_node(id);
  });
}

// One statement, so one round trip on PostgreSQL (Store::write_one): a fleet sends thousands a
// second.
void record_heartbeat(cluster::Store& store, const std::string& id, const Heartbeat& hb) {
  // Selected through nodes, so that an unknown node inserts nothing (not_found) rather than break
  // the foreign key; the WHERE also tells SQLite that ON CONFLICT is the upsert's.
  int64_t n = store.write_one(
      "INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent) "
      "SELECT id, $1, $2, $3, $4, $5 FROM nodes WHERE id = $6 "
      "ON CONFLICT (node_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, ready = excluded.ready, "
      "cpu_util = excluded.cpu_util, mem_free_bytes = excluded.mem_free_bytes, "
      "disk_used_percent = excluded.disk_used_percent",
      {hb.at_ms, hb.ready ? 1 : 0, hb.cpu_util, hb.mem_free, hb.disk_used, id});
  if (n == 0) no_node(id);
}

std::vector<NodeRow> load_nodes(cluster::Store& store, bool with_labels, int64_t creating_after) {
  static const std::string sql = fmt::format("{}{} FROM nodes n{}{} ORDER BY n.id", k_node_columns, k_heartbeat_columns,
                                             k_heartbeat_join, fmt::format(k_totals, ""));
  std::vector<NodeRow> rows;
  store.read([&](cluster::Tx& tx) {
    rows.clear();
    auto s = tx.query(sql, {creating_after});
    while (s.next()) rows.push_back(row_with_heartbeat(s));
    if (!with_labels) return;
    std::unordered_map<std::string_view, size_t> index;
    for (size_t i = 0; i < rows.size(); ++i) index.emplace(rows[i].reg.id, i);
    auto l = tx.query("SELECT node_id, key, value FROM node_labels ORDER BY node_id, key");
    while (l.next()) {
      auto it = index.find(l.text(0));
      if (it != index.end()) rows[it->second].reg.labels.emplace_back(l.text(1), l.text(2));
    }
  });
  return rows;
}

Heartbeat read_heartbeat(cluster::Store& store, const std::string& id) {
  Heartbeat hb{0, false, 0, 0, 0};
  store.read([&](cluster::Tx& tx) {
    auto s = tx.query(
        "SELECT heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent FROM node_heartbeats "
        "WHERE node_id = $1",
        {id});
    if (s.next()) hb = heartbeat_of(s, 0);
  });
  return hb;
}

std::optional<NodeRow> read_node(cluster::Tx& tx, const std::string& id, int64_t creating_after, const Heartbeat& hb) {
  static const std::string sql =
      fmt::format("{} FROM nodes n{} WHERE n.id = $2", k_node_columns, fmt::format(k_totals, "WHERE node_id = $2"));
  auto s = tx.query(sql, {creating_after, id});
  if (!s.next()) return std::nullopt;
  NodeRow r = row_of(s);
  set_heartbeat(r, hb);
  return r;
}

NodeRow get_node(cluster::Store& store, const std::string& id, int64_t creating_after) {
  static const std::string sql =
      fmt::format("{}{} FROM nodes n{}{} WHERE n.id = $2", k_node_columns, k_heartbeat_columns, k_heartbeat_join,
                  fmt::format(k_totals, "WHERE node_id = $2"));
  std::optional<NodeRow> row;
  store.read([&](cluster::Tx& tx) {
    row.reset();
    auto s = tx.query(sql, {creating_after, id});
    if (!s.next()) return;
    row = row_with_heartbeat(s);
    auto l = tx.query("SELECT key, value FROM node_labels WHERE node_id = $1 ORDER BY key", {id});
    while (l.next()) row->reg.labels.emplace_back(l.text(0), l.text(1));
  });
  if (!row) no_node(id);
  return *row;
}

std::vector<Allocation> list_allocations(cluster::Store& store, const std::string& node_filter) {
  static const std::string sql =
      fmt::format("{} WHERE $1 = '' OR node_id = $1 ORDER BY created_ms, sandbox_id", k_alloc_select);
  std::vector<Allocation> out;
  store.read([&](cluster::Tx& tx) {
    out.clear();
    auto s = tx.query(sql, {node_filter});
    while (s.next()) out.push_back(allocation_of(s));
  });
  return out;
}

std::optional<std::string> allocation_node(cluster::Tx& tx, const std::string& sandbox) {
  auto s = tx.query("SELECT node_id FROM allocations WHERE sandbox_id = $1", {sandbox});
  if (!s.next()) return std::nullopt;
  return std::string(s.text(0));
}

void insert_allocation(cluster::Tx& tx, const Allocation& a) {
  tx.exec("INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES ($1, $2, $3, $4, $5)",
          {a.sandbox, a.node, a.cpu_m, a.mem_bytes, a.created_ms});
}

namespace {

// Inside the caller's transaction.
Allocation require_allocation(cluster::Tx& tx, const std::string& sandbox) {
  static const std::string sql = fmt::format("{} WHERE sandbox_id = $1", k_alloc_select);
  auto s = tx.query(sql, {sandbox});
  if (!s.next())
    throw Error(Exit::not_found, fmt::format("sandbox '{}' has no allocation", sandbox), "",
                "see 'cube-sched alloc list'");
  return allocation_of(s);
}

}  // namespace

Allocation release(cluster::Store& store, const std::string& sandbox) {
  Allocation a;
  store.write([&](cluster::Tx& tx) {
    a = require_allocation(tx, sandbox);
    tx.exec("DELETE FROM allocations WHERE sandbox_id = $1", {sandbox});
  });
  return a;
}

Allocation mark_started(cluster::Store& store, const std::string& sandbox, int64_t now_ms) {
  Allocation a;
  store.write([&](cluster::Tx& tx) {
    a = require_allocation(tx, sandbox);
    if (a.started_ms != 0) return;
    tx.exec("UPDATE allocations SET started_ms = $1 WHERE sandbox_id = $2", {now_ms, sandbox});
    a.started_ms = now_ms;
  });
  return a;
}

}  // namespace cube::sched
