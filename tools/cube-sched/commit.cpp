#include "commit.hpp"

#include "error.hpp"
#include "registry.hpp"
#include "replicas.hpp"
#include "timeutil.hpp"

namespace cube::sched {
namespace {

// A heartbeat read this recently stands for one read now: nodes report every 10 s, so it misses at
// most one report, and skipping the read saves a transaction (three round trips on PostgreSQL) in
// every placement — one-shot ones, whose inventory is milliseconds old, and a --batch's, whose
// inventory is re-read every second.
constexpr int64_t k_heartbeat_reuse_ms = 2000;

Heartbeat heartbeat_for(cluster::Store& store, const Inventory& inv, size_t i) {
  if (time::now_ms() - inv.loaded_ms() <= k_heartbeat_reuse_ms) return inv.heartbeat(i);
  return read_heartbeat(store, inv.id(i));
}

void refuse_second_record(cluster::Tx& tx, const std::string& sandbox) {
  if (auto node = allocation_node(tx, sandbox))
    throw Error(Exit::conflict, fmt::format("sandbox '{}' is already allocated on node '{}'", sandbox, *node), "",
                "release it first with 'cube-sched release'");
}

// The replica the decision relied on, as read again: a rescan may have made it STALE since the
// replicas were loaded. Returns false (and updates `req`) when it changed.
bool replica_unchanged(Request& req, const std::string& node, const std::optional<ReplicaState>& now) {
  const ReplicaState* was = req.replicas->find(node);
  if (was && now && was->status == now->status && was->compat_status == now->compat_status) return true;
  if (!was && !now) return true;
  auto fresh = std::make_shared<TemplateReplicas>(*req.replicas);
  if (now)
    fresh->by_node[node] = *now;
  else
    fresh->by_node.erase(node);
  req.replicas = std::move(fresh);
  return false;
}

}  // namespace

Decision place_and_commit(cluster::Store& store, state::Db* db, Inventory& inv, const Request& original,
                          size_t random_top) {
  Request req = original;
  bool same_file = store.backend() == cluster::Backend::sqlite;
  for (;;) {
    Decision d = Placer(inv).decide(req, random_top);
    if (!d.node) {
      store.read([&](cluster::Tx& tx) { refuse_second_record(tx, req.sandbox); });
      return d;
    }
    size_t i = *d.node;
    const std::string& id = inv.id(i);
    Heartbeat hb = heartbeat_for(store, inv, i);
    std::optional<ReplicaState> replica;
    if (req.replicas && !same_file) replica = read_replica(*db, req.replicas->template_id, id);
    bool placed = false;
    store.write([&](cluster::Tx& tx) {
      placed = false;  // a retried transaction starts again
      refuse_second_record(tx, req.sandbox);
      int64_t now = time::now_ms();
      inv.refresh(i, read_node(tx, id, inv.policy().creating_after(now), hb), now);
      if (req.replicas && same_file) replica = read_replica(tx, req.replicas->template_id, id);
      if (req.replicas && !replica_unchanged(req, id, replica)) return;  // decide again with what is stored now
      Placer fresh(inv);
      if (fresh.check(fresh.compile(req), req, i).filter != Filter::none) return;  // lost a race: decide again
      d.score = fresh.score(req, i);
      insert_allocation(tx, {req.sandbox, id, req.cpu_m, req.mem, now});
      placed = true;
    });
    if (placed) {
      inv.add_allocation(i, req.cpu_m, req.mem);
      return d;
    }
  }
}

}  // namespace cube::sched
