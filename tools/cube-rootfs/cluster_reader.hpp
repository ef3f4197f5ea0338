// cube::rootfs::ClusterReader — where cube-rootfs reads the cluster tables (cube-sched's nodes and
// node_heartbeats, cube-versions' node_component_version): the cluster store cluster::choose()
// names (--cluster, $CUBE_CLUSTER_URL, [state] cluster; cube-state(5), "Two backends").
//
// Contract: with no URL the tables are in the state file, and read() runs the body on the
// connection cube-rootfs already holds, inside whatever transaction it is in (binding a replica
// reads its node's versions in the transaction that marks it READY). With a PostgreSQL URL the
// store is connected on first use and each read() is one read-only snapshot there.
#pragma once

#include "cluster.hpp"
#include "state.hpp"

#include <memory>
#include <string>

namespace cube::rootfs {

class ClusterReader {
 public:
  ClusterReader(state::Db& db, std::string url) : m_db(db), m_url(std::move(url)) {}
  void read(const cluster::Body& body);

 private:
  state::Db& m_db;
  std::string m_url;
  std::shared_ptr<cluster::Store> m_store;  // copies of a Catalog share the connection
};

}  // namespace cube::rootfs
