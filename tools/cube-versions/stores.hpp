// cube::versions::Stores — where cube-versions' tables are (cube-state(5), "Two backends"): the
// cluster tables (node_component_version, node_version_report, and cube-sched's nodes and
// node_heartbeats) in the cluster store, the node-local ones (templates, template_replicas,
// template_compat) in this host's state file.
//
// Contract:
// - The cluster store is chosen by cluster::choose(): --cluster, else $CUBE_CLUSTER_URL, else
//   [state] cluster, else the state file.
// - On the SQLite backend both are one file and one connection: write() is one BEGIN IMMEDIATE
//   transaction and read() one snapshot over every table, as before there was a choice.
// - On PostgreSQL, write() holds the state file's write lock (BEGIN IMMEDIATE) for the whole
//   SERIALIZABLE cluster transaction and commits the state file right after the cluster; a body
//   the cluster reruns after a serialization failure first rolls the state file back to where it
//   started (a savepoint), so a retry sees and writes the state file as the first attempt did.
//   A replica bound while its node's versions change is thus rescanned or bound to the new ones,
//   as cube-rootfs binds a replica holding the same lock. read() reads each store in a snapshot of
//   its own; the caller joins them in memory.
// - The state file is opened only when a body asks for it (local()), so reading the cluster's
//   tables on PostgreSQL needs no state file.
#pragma once

#include "cluster.hpp"
#include "context.hpp"
#include "state.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cube::versions {

// What a body gets: the cluster's transaction, and the state file on demand.
class Both {
 public:
  Both(cluster::Tx& cluster, std::function<state::Db&()> local) : m_cluster(cluster), m_local(std::move(local)) {}
  cluster::Tx& cluster() { return m_cluster; }
  state::Db& local() { return m_local(); }

 private:
  cluster::Tx& m_cluster;
  std::function<state::Db&()> m_local;
};

class Stores {
 public:
  Stores(cli::Context& ctx, cluster::Access access);
  cluster::Store& cluster() { return *m_cluster; }

  void write(const std::function<void(Both&)>& body);
  void read(const std::function<void(Both&)>& body);

 private:
  state::Db& state_file();

  cli::Context& m_ctx;
  cluster::Access m_access;
  std::unique_ptr<cluster::Store> m_cluster;
  std::optional<state::Db> m_state;
};

}  // namespace cube::versions
