// cube-sched's registry writes through the cluster store, with the same bodies on a real SQLite
// file and a real PostgreSQL 15 server (tests/pg-server; skipped only where it is not installed).
#include "cluster.hpp"
#include "cube-sched/registry.hpp"
#include "error.hpp"
#include "pg_server.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
