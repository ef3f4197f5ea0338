#include "commit.hpp"

#include "error.hpp"
#include "registry.hpp"
#include "replicas.hpp"
#include "timeutil.hpp"

namespace cube::sched {
namespace {

void refuse_second_record(state::Db& db, const std::string& sandbox) {
  if (auto node = allocation_node(db, sandbox))
    throw Error(Exit::conflict, fmt::format("sandbox '{}' is already allocated on node '{}'", sandbox, *node), "",
                "release it first with 'cube-sched release'");
}

// The replica the decision relied on, read again in the transaction: a rescan may have made it
// STALE since the replicas were loaded. Returns false (and updates `req`) when it changed.
bool replica_unchanged(state::Db& db, Request& req, const std::string& node) {
  if (!req.replicas) return true;
  std::optional<ReplicaState> now = read_replica(db, req.replicas->template_id, node);
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

Decision place_and_commit(state::Db& db, Inventory& inv, const Request& original, size_t random_top) {
  Request req = original;
  for (;;) {
    Decision d = Placer(inv).decide(req, random_top);
    state::Transaction tx(db);
    refuse_second_record(db, req.sandbox);
    if (!d.node) return d;
    size_t i = *d.node;
    int64_t now = time::now_ms();
    inv.refresh(i, read_node(db, inv.id(i), inv.policy().creating_after(now)), now);
    if (!replica_unchanged(db, req, inv.id(i))) continue;  // decide again with what the file says now
    Placer fresh(inv);
    if (fresh.check(fresh.compile(req), req, i).filter != Filter::none) continue;  // lost a race: decide again
    d.score = fresh.score(req, i);
    insert_allocation(db, {req.sandbox, inv.id(i), req.cpu_m, req.mem, now});
    tx.commit();
    inv.add_allocation(i, req.cpu_m, req.mem);
    return d;
  }
}

}  // namespace cube::sched
