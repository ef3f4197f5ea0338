// cube::sched commit — placement that records its allocation atomically, across masters.
//
// Contract: the decision is made on the in-memory inventory; then the chosen node's heartbeat is
// read, and one store transaction (common/cluster.hpp: BEGIN IMMEDIATE on SQLite, SERIALIZABLE
// and retried on PostgreSQL) re-reads the node's registration and allocation totals, re-checks it
// with that heartbeat, and inserts the allocation only if it still fits. If it no longer fits, the
// inventory learns the fresh numbers and the decision is made again. So any number of concurrent
// placers, on one host or several sharing a PostgreSQL store, never push a node over its effective
// capacity, and the sandbox primary key records each sandbox once: placing a sandbox that already
// has an allocation is Error(conflict).
//
// Heartbeats are read outside the transaction (a measurement, seconds old anyway), so that on
// PostgreSQL heartbeats never make a placement retry; the one the inventory holds is used when the
// inventory was loaded in the last 2 s (commit.cpp, k_heartbeat_reuse_ms). A template's replica lives in the state
// file: re-read inside the transaction when the store is that file, and from `db` just before it
// otherwise (doc/cube-sched.md, "Placement across masters"); `db` may be null for a request
// without a template.
#pragma once

#include "cluster.hpp"
#include "inventory.hpp"
#include "placer.hpp"
#include "state.hpp"

namespace cube::sched {

Decision place_and_commit(cluster::Store& store, state::Db* db, Inventory& inv, const Request& req, size_t random_top);

}  // namespace cube::sched
