// cube::sched registry — the nodes, node_heartbeats, node_labels and allocations tables
// (migrations 0002, 0007, 0009), through the cluster store (common/cluster.hpp): the SQLite state
// file or PostgreSQL, with one SQL text for both.
//
// Contract: every write is one store transaction (BEGIN IMMEDIATE on SQLite; SERIALIZABLE and
// retried whole on PostgreSQL). Registering an existing node updates its registration (capacity,
// type, address, labels) and keeps its heartbeat, cordon and allocations. A heartbeat writes only
// node_heartbeats, so it never conflicts with a placement, which reads heartbeats before its
// transaction (load_nodes, read_heartbeat) and nodes and allocations inside it (read_node).
// Unknown node or sandbox IDs are Error(not_found); removing a node that still holds allocations
// is Error(conflict) unless forced.
#pragma once

#include "cluster.hpp"
#include "cluster_copy.hpp"
#include "labels.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::sched {

struct Registration {
  std::string id;
  std::string address;
  std::string instance_type;
  std::string zone;
  std::string cluster_id;
  std::string cpu_type;
  int64_t cpu_m = 0;
  int64_t mem_bytes = 0;
  int64_t max_sandboxes = 0;  // 0: the configured default
  Labels labels;              // extra labels; canonical keys are dropped by register_node
};

struct Heartbeat {
  int64_t at_ms = 0;
  bool ready = true;
  double cpu_util = 0;  // percent
  int64_t mem_free = 0;
  double disk_used = 0;  // percent of the node's store file system
};

// A node as stored, with its allocation totals.
struct NodeRow {
  Registration reg;
  bool cordoned = false;
  int64_t heartbeat_ms = 0;
  bool ready = false;
  double cpu_util = 0;
  int64_t mem_free = 0;
  double disk_used = 0;
  int64_t registered_ms = 0;
  int64_t alloc_cpu_m = 0;
  int64_t alloc_mem = 0;
  int64_t sandboxes = 0;
  int64_t creating = 0;  // allocations not marked started, placed after the load's creating_after
};

struct Allocation {
  std::string sandbox;
  std::string node;
  int64_t cpu_m = 0;
  int64_t mem_bytes = 0;
  int64_t created_ms = 0;
  int64_t started_ms = 0;  // 0: still being created
};

// Upserts the node; returns the canonical-key labels that were given and dropped.
// cube-sched's cluster tables, parents first, column by column: what `cube-sched migrate` copies.
std::vector<cluster::Table> cluster_tables();

std::vector<std::string> register_node(cluster::Store& store, const Registration& reg);
// Returns the number of allocations removed with the node.
int64_t remove_node(cluster::Store& store, const std::string& id, bool force);
void set_cordoned(cluster::Store& store, const std::string& id, bool cordoned);
void record_heartbeat(cluster::Store& store, const std::string& id, const Heartbeat& hb);

// All nodes in ID order (byte order), with their heartbeats, labels (`with_labels`) and
// allocation totals, on one snapshot. An allocation counts as creating while it is not marked
// started and was placed after `creating_after` (Unix ms): past the create window it no longer
// holds a create slot.
std::vector<NodeRow> load_nodes(cluster::Store& store, bool with_labels, int64_t creating_after);
// One node's last heartbeat (at_ms 0: never), read before a placement transaction.
Heartbeat read_heartbeat(cluster::Store& store, const std::string& id);
// One node's registration and allocation totals, inside a placement transaction, with `hb` as its
// heartbeat (not read here: see the contract); nullopt when the node does not exist.
std::optional<NodeRow> read_node(cluster::Tx& tx, const std::string& id, int64_t creating_after, const Heartbeat& hb);
// One node with its heartbeat and labels, or Error(not_found).
NodeRow get_node(cluster::Store& store, const std::string& id, int64_t creating_after);

std::vector<Allocation> list_allocations(cluster::Store& store, const std::string& node_filter);
// The node a sandbox is allocated on, if any.
std::optional<std::string> allocation_node(cluster::Tx& tx, const std::string& sandbox);
// Inserts inside the caller's transaction. The sandbox primary key refuses a second record.
void insert_allocation(cluster::Tx& tx, const Allocation& a);
Allocation release(cluster::Store& store, const std::string& sandbox);
// Marks the sandbox started (its create slot is free); the first mark stays. Error(not_found)
// without an allocation.
Allocation mark_started(cluster::Store& store, const std::string& sandbox, int64_t now_ms);

}  // namespace cube::sched
