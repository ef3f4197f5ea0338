// cube-sched's registry, heartbeats, allocations and committed placement through the cluster store,
// with the same bodies on a real SQLite file and a real PostgreSQL 15 server (tests/pg-server;
// skipped only where it is not installed).
#include "cluster.hpp"
#include "cube-sched/commit.hpp"
#include "cube-sched/inventory.hpp"
#include "cube-sched/registry.hpp"
#include "error.hpp"
#include "pg_server.hpp"
#include "testing.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace cube;
using cluster::Backend;
using cluster::Tx;
using test::error_of;

namespace {

class RegistryStore : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    cluster::Target target{"", m_dir / "state.db"};
    if (GetParam() == Backend::postgresql) {
      auto& server = test::PgServer::get();
      if (!server.available()) GTEST_SKIP() << server.reason();
      std::string schema = fmt::format("sched{}", ++s_schemas);
      cluster::open({server.url(), ""}, cluster::Access::write)->write([&](Tx& tx) {
        tx.exec(fmt::format("CREATE SCHEMA {}", schema));
      });
      target = {server.url(schema), ""};
    }
    m_store = cluster::open(target, cluster::Access::write);
  }

  std::string one(std::string_view sql, std::string_view id) {
    std::string out;
    m_store->read([&](Tx& tx) {
      auto rows = tx.query(sql, {id});
      while (rows.next())
        out += std::string(rows.text(0)) + (rows.is_null(1) ? "" : "=" + std::string(rows.text(1))) + ";";
    });
    return out;
  }

  static inline int s_schemas = 0;
  test::TempDir m_dir;
  std::unique_ptr<cluster::Store> m_store;
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgresql";
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStore, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         backend_name);

sched::Registration node(std::string id, sched::Labels labels = {}) {
  sched::Registration r;
  r.id = std::move(id);
  r.cpu_m = 4000;
  r.mem_bytes = int64_t{8} << 30;
  r.zone = "z1";
  r.labels = std::move(labels);
  return r;
}

TEST_P(RegistryStore, RegisterUpsertsAndReplacesTheLabels) {
  auto dropped = sched::register_node(*m_store, node("n-1", {{"rack", "r1"}, {"tier", "a"}, {"tier", "b"}}));
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(one("SELECT key, value FROM node_labels WHERE node_id = $1 ORDER BY key", "n-1"), "rack=r1;tier=b;");
  auto again = node("n-1", {{"zone", "ignored"}, {"gpu", "yes"}});
  again.cpu_m = 8000;
  dropped = sched::register_node(*m_store, again);
  EXPECT_EQ(dropped, std::vector<std::string>{"zone"});  // canonical: it comes from --zone
  EXPECT_EQ(one("SELECT key, value FROM node_labels WHERE node_id = $1 ORDER BY key", "n-1"), "gpu=yes;");
  EXPECT_EQ(one("SELECT id, cpu_m FROM nodes WHERE id = $1", "n-1"), "n-1=8000;");
}

TEST_P(RegistryStore, CordonNeedsARegisteredNode) {
  sched::register_node(*m_store, node("n-1"));
  sched::set_cordoned(*m_store, "n-1", true);
  EXPECT_EQ(one("SELECT id, cordoned FROM nodes WHERE id = $1", "n-1"), "n-1=1;");
  sched::set_cordoned(*m_store, "n-1", false);
  EXPECT_EQ(one("SELECT id, cordoned FROM nodes WHERE id = $1", "n-1"), "n-1=0;");
  EXPECT_EQ(error_of([&] { sched::set_cordoned(*m_store, "ghost", true); }).code(), Exit::not_found);
}

TEST_P(RegistryStore, RemoveRefusesANodeWithAllocationsUnlessForced) {
  sched::register_node(*m_store, node("n-1", {{"rack", "r1"}}));
  m_store->write([](Tx& tx) {
    tx.exec(
        "INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES ('sb', 'n-1', 1, 1, 1)");
  });
  Error e = error_of([&] { sched::remove_node(*m_store, "n-1", false); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_EQ(one("SELECT id, NULL FROM nodes WHERE id = $1", "n-1"), "n-1;");
  EXPECT_EQ(sched::remove_node(*m_store, "n-1", true), 1);
  EXPECT_EQ(one("SELECT sandbox_id, NULL FROM allocations WHERE node_id = $1", "n-1"), "");
  EXPECT_EQ(one("SELECT key, value FROM node_labels WHERE node_id = $1", "n-1"), "");
  EXPECT_EQ(error_of([&] { sched::remove_node(*m_store, "n-1", false); }).code(), Exit::not_found);
}

TEST_P(RegistryStore, HeartbeatsAreTheirOwnRows) {
  sched::register_node(*m_store, node("n-1"));
  sched::register_node(*m_store, node("n-2"));
  EXPECT_EQ(sched::read_heartbeat(*m_store, "n-1").at_ms, 0);
  sched::record_heartbeat(*m_store, "n-1", {1000, true, 12.5, 4096, 50.25});
  sched::record_heartbeat(*m_store, "n-1", {2000, false, 20.5, 8192, 60.5});  // the last one counts
  auto rows = sched::load_nodes(*m_store, false, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].heartbeat_ms, 2000);
  EXPECT_FALSE(rows[0].ready);
  EXPECT_DOUBLE_EQ(rows[0].cpu_util, 20.5);
  EXPECT_EQ(rows[0].mem_free, 8192);
  EXPECT_DOUBLE_EQ(rows[0].disk_used, 60.5);
  EXPECT_EQ(rows[1].heartbeat_ms, 0);  // never heard from: no row, read as zero
  EXPECT_EQ(error_of([&] { sched::record_heartbeat(*m_store, "ghost", {1, true, 0, 0, 0}); }).code(), Exit::not_found);
  // Registering again keeps the heartbeat; removing the node removes it.
  sched::register_node(*m_store, node("n-1"));
  EXPECT_EQ(sched::get_node(*m_store, "n-1", 0).heartbeat_ms, 2000);
  sched::remove_node(*m_store, "n-1", false);
  EXPECT_EQ(one("SELECT node_id, NULL FROM node_heartbeats WHERE node_id = $1", "n-1"), "");
}

TEST_P(RegistryStore, AllocationsCountTowardTheNodeUntilReleased) {
  sched::register_node(*m_store, node("n-1", {{"rack", "r1"}}));
  m_store->write([](Tx& tx) {
    sched::insert_allocation(tx, {"sb-1", "n-1", 1500, 1024, 100});
    sched::insert_allocation(tx, {"sb-2", "n-1", 500, 2048, 200});
  });
  EXPECT_EQ(sched::mark_started(*m_store, "sb-1", 300).started_ms, 300);
  EXPECT_EQ(sched::mark_started(*m_store, "sb-1", 400).started_ms, 300);  // the first mark stays
  sched::NodeRow r = sched::get_node(*m_store, "n-1", 150);
  EXPECT_EQ(r.alloc_cpu_m, 2000);
  EXPECT_EQ(r.alloc_mem, 3072);
  EXPECT_EQ(r.sandboxes, 2);
  EXPECT_EQ(r.creating, 1);  // sb-2: not started, placed after 150
  EXPECT_EQ(r.reg.labels, (sched::Labels{{"rack", "r1"}}));
  EXPECT_EQ(sched::list_allocations(*m_store, "n-1").size(), 2u);
  EXPECT_EQ(sched::list_allocations(*m_store, "n-2").size(), 0u);
  EXPECT_EQ(sched::release(*m_store, "sb-1").node, "n-1");
  EXPECT_EQ(error_of([&] { sched::release(*m_store, "sb-1"); }).code(), Exit::not_found);
  EXPECT_EQ(error_of([&] { sched::mark_started(*m_store, "sb-1", 1); }).code(), Exit::not_found);
  EXPECT_EQ(sched::list_allocations(*m_store, "").size(), 1u);
}

TEST_P(RegistryStore, CommittedPlacementFillsANodeAndNoMore) {
  sched::Registration reg = node("n-1");
  reg.cpu_m = 1000;
  sched::register_node(*m_store, reg);
  int64_t now = time::now_ms();
  sched::record_heartbeat(*m_store, "n-1", {now, true, 1, int64_t{1} << 40, 1});
  sched::Policy policy;
  auto inventory = [&] { return sched::Inventory(sched::load_nodes(*m_store, true, 0), policy, now); };
  sched::Request req;
  req.cpu_m = 1000;  // a third of the effective 3000m (ratio 3)
  req.mem = 1024;
  // Five placers that all loaded the node empty, as masters deciding at once would.
  std::vector<sched::Inventory> placers;
  for (int i = 0; i < 5; ++i) placers.push_back(inventory());
  int placed = 0;
  for (int i = 0; i < 5; ++i) {
    req.sandbox = fmt::format("sb-{}", i);
    if (sched::place_and_commit(*m_store, nullptr, placers[i], req, 0).node) ++placed;
  }
  EXPECT_EQ(placed, 3);
  EXPECT_EQ(sched::get_node(*m_store, "n-1", 0).alloc_cpu_m, 3000);
  sched::Inventory inv = inventory();
  req.sandbox = "sb-0";
  EXPECT_EQ(error_of([&] { sched::place_and_commit(*m_store, nullptr, inv, req, 0); }).code(), Exit::conflict);
}

}  // namespace
