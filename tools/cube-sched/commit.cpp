#include "commit.hpp"

#include "error.hpp"
#include "registry.hpp"
#include "timeutil.hpp"

namespace cube::sched {
namespace {

void refuse_second_record(state::Db& db, const std::string& sandbox) {
  if (auto node = allocation_node(db, sandbox))
    throw Error(Exit::conflict, fmt::format("sandbox '{}' is already allocated on node '{}'", sandbox, *node), "",
                "release it first with 'cube-sched release'");
}

}  // namespace

Decision place_and_commit(state::Db& db, Inventory& inv, const Request& req, size_t random_top) {
  for (;;) {
    Decision d = Placer(inv).decide(req, random_top);
    state::Transaction tx(db);
    refuse_second_record(db, req.sandbox);
    if (!d.node) return d;
    size_t i = *d.node;
    int64_t now = time::now_ms();
    inv.refresh(i, read_node(db, inv.id(i), inv.policy().creating_after(now)), now);
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
