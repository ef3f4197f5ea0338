#include "registry.hpp"

#include "error.hpp"
#include "timeutil.hpp"

#include <algorithm>
#include <unordered_map>

namespace cube::sched {
namespace {

constexpr std::string_view k_node_select = R"(
  SELECT n.id, n.address, n.instance_type, n.zone, n.cluster_id, n.cpu_type, n.cpu_m, n.mem_bytes,
         n.max_sandboxes, n.cordoned, COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0), COALESCE(h.cpu_util, 0),
         COALESCE(h.mem_free_bytes, 0), n.registered_ms, COALESCE(a.cpu, 0), COALESCE(a.mem, 0), COALESCE(a.c, 0),
         COALESCE(h.disk_used_percent, 0), COALESCE(a.creating, 0)
  FROM nodes n LEFT JOIN node_heartbeats h ON h.node_id = n.id LEFT JOIN
       (SELECT node_id, SUM(cpu_m) AS cpu, SUM(mem_bytes) AS mem, COUNT(*) AS c,
               SUM(started_ms = 0 AND created_ms > ?1) AS creating
        FROM allocations GROUP BY node_id) a
       ON a.node_id = n.id)";

constexpr std::string_view k_alloc_select =
    "SELECT sandbox_id, node_id, cpu_m, mem_bytes, created_ms, started_ms FROM allocations";

Allocation allocation_of(const state::Statement& s) {
  return {std::string(s.text(0)), std::string(s.text(1)), s.integer(2), s.integer(3), s.integer(4), s.integer(5)};
}

NodeRow row_of(const state::Statement& s) {
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
  r.heartbeat_ms = s.integer(10);
  r.ready = s.integer(11) != 0;
  r.cpu_util = s.real(12);
  r.mem_free = s.integer(13);
  r.registered_ms = s.integer(14);
  r.alloc_cpu_m = s.integer(15);
  r.alloc_mem = s.integer(16);
  r.sandboxes = s.integer(17);
  r.disk_used = s.real(18);
  r.creating = s.integer(19);
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

void record_heartbeat(state::Db& db, const std::string& id, const Heartbeat& hb) {
  state::Transaction tx(db);
  // Through nodes, so that an unknown node inserts nothing (not_found) rather than break the foreign key.
  db.prepare(
        "INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent) "
        "SELECT id, ?1, ?2, ?3, ?4, ?5 FROM nodes WHERE id = ?6 "
        "ON CONFLICT (node_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, ready = excluded.ready, "
        "cpu_util = excluded.cpu_util, mem_free_bytes = excluded.mem_free_bytes, "
        "disk_used_percent = excluded.disk_used_percent")
      .bind_all(hb.at_ms, hb.ready ? 1 : 0, hb.cpu_util, hb.mem_free, hb.disk_used, id)
      .run();
  if (db.changes() == 0) no_node(id);
  tx.commit();
}

std::vector<NodeRow> load_nodes(state::Db& db, bool with_labels, int64_t creating_after) {
  std::vector<NodeRow> rows;
  auto s = db.prepare(std::string(k_node_select) + " ORDER BY n.id");
  s.bind(1, creating_after);
  while (s.step()) rows.push_back(row_of(s));
  if (!with_labels) return rows;
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < rows.size(); ++i) index.emplace(rows[i].reg.id, i);
  auto l = db.prepare("SELECT node_id, key, value FROM node_labels ORDER BY node_id, key");
  while (l.step()) {
    auto it = index.find(l.text(0));
    if (it != index.end()) rows[it->second].reg.labels.emplace_back(l.text(1), l.text(2));
  }
  return rows;
}

std::optional<NodeRow> read_node(state::Db& db, const std::string& id, int64_t creating_after) {
  auto s = db.prepare(std::string(k_node_select) + " WHERE n.id = ?2");
  s.bind_all(creating_after, id);
  if (!s.step()) return std::nullopt;
  return row_of(s);
}

NodeRow get_node(state::Db& db, const std::string& id, int64_t creating_after) {
  auto row = read_node(db, id, creating_after);
  if (!row) no_node(id);
  auto l = db.prepare("SELECT key, value FROM node_labels WHERE node_id = ? ORDER BY key");
  l.bind_all(id);
  while (l.step()) row->reg.labels.emplace_back(l.text(0), l.text(1));
  return *row;
}

std::vector<Allocation> list_allocations(state::Db& db, const std::string& node_filter) {
  auto s = db.prepare(std::string(k_alloc_select) + " WHERE ?1 = '' OR node_id = ?1 ORDER BY created_ms, sandbox_id");
  s.bind_all(node_filter);
  std::vector<Allocation> out;
  while (s.step()) out.push_back(allocation_of(s));
  return out;
}

std::optional<std::string> allocation_node(state::Db& db, const std::string& sandbox) {
  auto s = db.prepare("SELECT node_id FROM allocations WHERE sandbox_id = ?");
  s.bind_all(sandbox);
  if (!s.step()) return std::nullopt;
  return std::string(s.text(0));
}

void insert_allocation(state::Db& db, const Allocation& a) {
  db.prepare("INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES (?, ?, ?, ?, ?)")
      .bind_all(a.sandbox, a.node, a.cpu_m, a.mem_bytes, a.created_ms)
      .run();
}

namespace {

// Inside the caller's transaction.
Allocation require_allocation(state::Db& db, const std::string& sandbox) {
  auto s = db.prepare(std::string(k_alloc_select) + " WHERE sandbox_id = ?");
  s.bind_all(sandbox);
  if (!s.step())
    throw Error(Exit::not_found, fmt::format("sandbox '{}' has no allocation", sandbox), "",
                "see 'cube-sched alloc list'");
  return allocation_of(s);
}

}  // namespace

Allocation release(state::Db& db, const std::string& sandbox) {
  state::Transaction tx(db);
  Allocation a = require_allocation(db, sandbox);
  db.prepare("DELETE FROM allocations WHERE sandbox_id = ?").bind_all(sandbox).run();
  tx.commit();
  return a;
}

Allocation mark_started(state::Db& db, const std::string& sandbox, int64_t now_ms) {
  state::Transaction tx(db);
  Allocation a = require_allocation(db, sandbox);
  if (a.started_ms == 0) {
    db.prepare("UPDATE allocations SET started_ms = ? WHERE sandbox_id = ?").bind_all(now_ms, sandbox).run();
    a.started_ms = now_ms;
  }
  tx.commit();
  return a;
}

}  // namespace cube::sched
