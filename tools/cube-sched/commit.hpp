// cube::sched commit — placement that records its allocation atomically.
//
// Contract: the decision is made on the in-memory inventory; then one BEGIN IMMEDIATE transaction
// re-reads the chosen node (its registration, health and allocation totals), re-checks it, and
// inserts the allocation only if it still fits. If it no longer fits, the inventory learns the
// fresh numbers and the decision is made again. So any number of concurrent placers never push a
// node over its effective capacity, and the sandbox primary key records each sandbox once: placing
// a sandbox that already has an allocation is Error(conflict).
#pragma once

#include "inventory.hpp"
#include "placer.hpp"
#include "state.hpp"

namespace cube::sched {

Decision place_and_commit(state::Db& db, Inventory& inv, const Request& req, size_t random_top);

}  // namespace cube::sched
