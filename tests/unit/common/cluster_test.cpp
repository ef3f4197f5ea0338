// cube::cluster::Store against both backends with the same test bodies: a real SQLite file and a
// real PostgreSQL 15 server of this binary's own (tests/pg-server, one start for the whole file).
// The PostgreSQL cases skip, with the reason, only where the server's binaries are absent.
#include "cluster.hpp"
#include "error.hpp"
#include "pg_server.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace cube;
using cluster::Access;
using cluster::Backend;
using cluster::Store;
using cluster::Tx;
using test::contains;
using test::error_of;

namespace {

// The integer in the first column of the first row of a query (-1 when there is no row).
int64_t scalar(Store& store, const std::string& sql) {
  int64_t n = -1;
  store.read([&](Tx& tx) {
    auto rows = tx.query(sql);
    ASSERT_TRUE(rows.next());
    n = rows.integer(0);
  });
  return n;
}

int64_t count_rows(Store& store, std::string_view table) {
  return scalar(store, fmt::format("SELECT COUNT(*) FROM {}", table));
}

void add_node(Tx& tx, std::string_view id, int64_t cpu_m = 1000) {
  tx.exec("INSERT INTO nodes (id, cpu_m, mem_bytes, registered_ms) VALUES ($1, $2, $3, $4)",
          {id, cpu_m, int64_t{1} << 33, int64_t{1700000000000}});
}

// Each test gets a store of its own: a fresh state file, or a fresh schema on the one server.
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgresql) {
      auto& server = test::PgServer::get();
      if (!server.available()) GTEST_SKIP() << server.reason();
      m_schema = fmt::format("t{}", ++s_schemas);
      auto admin = cluster::open({server.url(), ""}, Access::write);
      admin->write([&](Tx& tx) { tx.exec(fmt::format("CREATE SCHEMA {}", m_schema)); });
      m_target = {server.url(m_schema), ""};
    } else {
      m_target = {"", m_dir / "state.db"};
    }
  }
  std::unique_ptr<Store> open(Access access = Access::write) { return cluster::open(m_target, access); }

  static inline int s_schemas = 0;
  test::TempDir m_dir;
  std::string m_schema;
  cluster::Target m_target;
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgresql";
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::sqlite, Backend::postgresql), backend_name);

TEST_P(StoreTest, OpensMigratedWithTheClusterTables) {
  auto store = open();
  EXPECT_EQ(store->backend(), GetParam());
  EXPECT_GT(store->schema_version(), 0);
  for (auto table : {"nodes", "node_labels", "allocations", "node_component_version", "node_version_report"})
    EXPECT_EQ(count_rows(*store, table), 0) << table;
}

TEST_P(StoreTest, ParametersAreNumberedReusableAndInAnyOrder) {
  auto store = open();
  store->write([](Tx& tx) {
    // $2 before $1, $3 twice: bound by number on both backends.
    tx.exec("INSERT INTO nodes (id, address, cpu_m, mem_bytes, registered_ms) VALUES ($2, $1, $3, $3, $4)",
            {"10.0.0.1", "n-1", int64_t{1} << 40, int64_t{1700000000123}});
  });
  store->read([](Tx& tx) {
    auto rows = tx.query("SELECT id, address, cpu_m, mem_bytes, registered_ms FROM nodes WHERE id = $1", {"n-1"});
    ASSERT_TRUE(rows.next());
    EXPECT_EQ(rows.text(0), "n-1");
    EXPECT_EQ(rows.text(1), "10.0.0.1");
    EXPECT_EQ(rows.integer(2), int64_t{1} << 40);
    EXPECT_EQ(rows.integer(3), int64_t{1} << 40);
    EXPECT_EQ(rows.integer(4), 1700000000123);
    EXPECT_FALSE(rows.next());
  });
}

TEST_P(StoreTest, TextRealAndNullRoundTrip) {
  auto store = open();
  std::string odd = "it's \"quoted\"; -- not SQL\tü";
  store->write([&](Tx& tx) {
    add_node(tx, "n-1");
    tx.exec("UPDATE nodes SET zone = $1, cpu_type = COALESCE($2, 'none') WHERE id = $3", {odd, nullptr, "n-1"});
    tx.exec("INSERT INTO node_version_report (node_id, report_hash, reported_ms, report) VALUES ($1, $2, $3, $4)",
            {"n-1", "h", int64_t{5}, odd});
  });
  store->read([&](Tx& tx) {
    auto rows = tx.query(
        "SELECT n.zone, n.cpu_type, r.report, NULL FROM nodes n JOIN node_version_report r ON "
        "r.node_id = n.id");
    ASSERT_TRUE(rows.next());
    EXPECT_EQ(rows.text(0), odd);
    EXPECT_EQ(rows.text(1), "none");
    EXPECT_EQ(rows.text(2), odd);
    EXPECT_TRUE(rows.is_null(3));
    EXPECT_EQ(rows.integer(3), 0);
  });
}

TEST_P(StoreTest, UpsertSumsAndTextOrderReadTheSame) {
  auto store = open();
  int64_t changed = 0;
  store->write([&](Tx& tx) {
    for (auto id : {"b", "B", "a"}) add_node(tx, id, 500);
    auto upsert =
        "INSERT INTO node_version_report (node_id, report_hash, reported_ms) VALUES ($1, $2, $3) "
        "ON CONFLICT (node_id) DO UPDATE SET report_hash = excluded.report_hash, reported_ms = excluded.reported_ms";
    tx.exec(upsert, {"a", "h1", int64_t{1}});
    changed = tx.exec(upsert, {"a", "h2", int64_t{2}});
    for (int i = 0; i < 3; ++i)
      tx.exec(
          "INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms, started_ms) "
          "VALUES ($1, 'a', 250, 1024, 10, $2)",
          {fmt::format("sb-{}", i), int64_t{i == 0 ? 0 : 99}});
  });
  EXPECT_EQ(changed, 1);
  store->read([](Tx& tx) {
    auto order = tx.query("SELECT id FROM nodes ORDER BY id");
    std::string ids;
    while (order.next()) ids += order.text(0);
    EXPECT_EQ(ids, "Bab");  // bytes, not the locale's collation
    auto report = tx.query("SELECT report_hash, reported_ms FROM node_version_report");
    ASSERT_TRUE(report.next());
    EXPECT_EQ(report.text(0), "h2");
    EXPECT_EQ(report.integer(1), 2);
    auto sums = tx.query(
        "SELECT SUM(cpu_m), COUNT(*), SUM(CASE WHEN started_ms = 0 THEN 1 ELSE 0 END), AVG(cpu_m), "
        "COUNT(*) > 2 FROM allocations WHERE node_id = $1",
        {"a"});
    ASSERT_TRUE(sums.next());
    EXPECT_EQ(sums.integer(0), 750);
    EXPECT_EQ(sums.integer(1), 3);
    EXPECT_EQ(sums.integer(2), 1);
    EXPECT_DOUBLE_EQ(sums.real(3), 250.0);
    EXPECT_EQ(sums.integer(4), 1);  // a boolean reads as 1 or 0 on both
  });
}

TEST_P(StoreTest, ReturningGivesTheGeneratedId) {
  auto store = open();
  int64_t id = 0;
  store->write([&](Tx& tx) {
    auto rows = tx.query("INSERT INTO node_component_version (node_id, component) VALUES ($1, $2) RETURNING id",
                         {"n-1", "agent"});
    ASSERT_TRUE(rows.next());
    id = rows.integer(0);
  });
  EXPECT_GT(id, 0);
}

TEST_P(StoreTest, AConstraintIsAConflict) {
  auto store = open();
  store->write([](Tx& tx) { add_node(tx, "n-1"); });
  Error e = error_of([&] { store->write([](Tx& tx) { add_node(tx, "n-1"); }); });
  EXPECT_EQ(e.code(), Exit::conflict) << e.message();
  // A foreign key: an allocation on a node that does not exist.
  e = error_of([&] {
    store->write([](Tx& tx) {
      tx.exec("INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES ('s', 'x', 1, 1, 1)");
    });
  });
  EXPECT_EQ(e.code(), Exit::conflict) << e.message();
}

TEST_P(StoreTest, AParameterCountThatDisagreesIsAnError) {
  auto store = open();
  Error e = error_of([&] { store->read([](Tx& tx) { tx.query("SELECT id FROM nodes WHERE id = $1", {"a", "b"}); }); });
  EXPECT_EQ(e.code(), Exit::failed) << e.message();
  e = error_of([&] { store->read([](Tx& tx) { tx.query("SELECT id FROM nodes WHERE id = $1"); }); });
  EXPECT_EQ(e.code(), Exit::failed) << e.message();
}

TEST_P(StoreTest, ABodyThatThrowsLeavesNothingWritten) {
  auto store = open();
  Error e = error_of([&] {
    store->write([](Tx& tx) {
      add_node(tx, "n-1");
      add_node(tx, "n-2");
      throw Error(Exit::usage, "the body gave up");
    });
  });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_EQ(count_rows(*store, "nodes"), 0);
  store->write([](Tx& tx) { add_node(tx, "n-3"); });  // the store is usable after a rollback
  EXPECT_EQ(count_rows(*store, "nodes"), 1);
}

TEST_P(StoreTest, WriteOneIsATransactionOfItsOwn) {
  auto store = open();
  store->write([](Tx& tx) { add_node(tx, "n-1"); });
  const char* beat =
      "INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready) SELECT id, $1, 1 FROM nodes WHERE id = $2 "
      "ON CONFLICT (node_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms";
  EXPECT_EQ(store->write_one(beat, {int64_t{5}, "n-1"}), 1);
  EXPECT_EQ(store->write_one(beat, {int64_t{6}, "n-1"}), 1);
  EXPECT_EQ(store->write_one(beat, {int64_t{7}, "nobody"}), 0);
  Error e = error_of([&] {
    store->write_one("INSERT INTO nodes (id, cpu_m, mem_bytes, registered_ms) VALUES ($1, 1, 1, 1)", {"n-1"});
  });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_EQ(scalar(*store, "SELECT heartbeat_ms FROM node_heartbeats"), 6);
  EXPECT_EQ(count_rows(*store, "nodes"), 1);
}

TEST_P(StoreTest, AStoreOpenedForReadingRefusesWrites) {
  open();  // migrated
  auto reader = open(Access::read);
  Error e = error_of([&] { reader->write([](Tx& tx) { add_node(tx, "n-1"); }); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.message(), "opened for reading")) << e.message();
}

// The brief's capacity rule across two writers: each reads the node's allocations and adds one if
// there is room for it. Both read before either writes (the barrier), so on PostgreSQL one must
// fail to serialize and run again, seeing the other's row.
TEST_P(StoreTest, ConcurrentWritersKeepTheCapacityRule) {
  auto store = open();
  store->write([](Tx& tx) { add_node(tx, "n-1", 1000); });
  std::atomic<int> runs = 0;
  std::atomic<int> placed = 0;
  bool serialized_by_lock = GetParam() == Backend::sqlite;  // BEGIN IMMEDIATE: one waits for the other
  std::barrier both_read(serialized_by_lock ? 1 : 2);
  auto place = [&](std::string sandbox) {
    auto mine = open();
    bool first = true;
    mine->write([&](Tx& tx) {
      ++runs;
      auto used = tx.query("SELECT COALESCE(SUM(cpu_m), 0) FROM allocations WHERE node_id = 'n-1'");
      used.next();
      int64_t free_m = 1000 - used.integer(0);
      if (first) both_read.arrive_and_wait();
      first = false;
      if (free_m < 600) return;
      tx.exec(
          "INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES ($1, 'n-1', 600, 1, 1)",
          {sandbox});
      ++placed;
    });
  };
  std::thread a(place, "sb-a"), b(place, "sb-b");
  a.join();
  b.join();
  EXPECT_EQ(count_rows(*store, "allocations"), 1);
  if (GetParam() == Backend::postgresql) {
    EXPECT_EQ(runs.load(), 3);  // one retry, of the loser
  }
}

// --- PostgreSQL only -------------------------------------------------------------------------------

class PgTest : public StoreTest {};
INSTANTIATE_TEST_SUITE_P(Backends, PgTest, ::testing::Values(Backend::postgresql), backend_name);

int64_t migrations_recorded(Store& store) {
  int64_t n = 0;
  store.read([&](Tx& tx) {
    auto rows = tx.query("SELECT COUNT(*) FROM cube_schema_version");
    rows.next();
    n = rows.integer(0);
  });
  return n;
}

TEST_P(PgTest, TwoToolsConnectingAtOnceMigrateOnce) {
  std::vector<std::unique_ptr<Store>> stores(4);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(stores.size());
  for (size_t i = 0; i < stores.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        stores[i] = open();
      } catch (const Error& e) {
        errors[i] = e.message();
      }
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < stores.size(); ++i) {
    ASSERT_TRUE(errors[i].empty()) << errors[i];
    EXPECT_EQ(stores[i]->schema_version(), cluster::latest_pg_schema_version());
  }
  EXPECT_EQ(migrations_recorded(*stores[0]), cluster::latest_pg_schema_version());
}

TEST_P(PgTest, ANewerSchemaIsRefusedNamingBothVersions) {
  auto store = open();
  store->write([](Tx& tx) {
    tx.exec("INSERT INTO cube_schema_version (version, name, applied_ms) VALUES (9999, 'future', 0)");
  });
  Error e = error_of([&] { open(); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(
      e.message(), fmt::format("schema version 9999, newer than this tool's {}", cluster::latest_pg_schema_version())))
      << e.message();
}

TEST_P(PgTest, HeartbeatsLiveInATableOfTheirOwn) {
  auto store = open();
  store->write([](Tx& tx) {
    add_node(tx, "n-1");
    tx.exec("INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready) VALUES ($1, $2, 1)",
            {"n-1", int64_t{1700000000000}});
    tx.exec("DELETE FROM nodes WHERE id = $1", {"n-1"});
  });
  EXPECT_EQ(count_rows(*store, "node_heartbeats"), 0);  // gone with its node
}

TEST_P(PgTest, RetriesStopAfterTheBoundWithAConflict) {
  auto store = open();
  int runs = 0;
  Error e = error_of([&] {
    store->write([&](Tx& tx) {
      ++runs;
      tx.exec("DO $$ BEGIN RAISE EXCEPTION 'always' USING ERRCODE = '40001'; END $$");
    });
  });
  EXPECT_EQ(runs, cluster::k_max_attempts);
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_TRUE(contains(e.message(), fmt::format("{} times in a row", cluster::k_max_attempts))) << e.message();
}

// A sequence is not rolled back: it counts the attempts.
TEST_P(PgTest, WriteOneIsSerializableAndRetried) {
  auto store = open();
  store->write([](Tx& tx) { tx.exec("CREATE SEQUENCE attempts"); });
  std::string isolation;
  store->read([&](Tx& tx) {
    auto rows = tx.query("SELECT current_setting('default_transaction_isolation')");
    ASSERT_TRUE(rows.next());
    isolation = rows.text(0);
  });
  EXPECT_EQ(isolation, "serializable");
  Error e = error_of([&] {
    store->write_one(
        "DO $$ BEGIN PERFORM nextval('attempts'); RAISE EXCEPTION 'always' USING ERRCODE = '40001'; END $$");
  });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_EQ(scalar(*store, "SELECT last_value FROM attempts"), cluster::k_max_attempts);
}

TEST_P(PgTest, ConnectionFailureNamesTheSocketAndHidesThePassword) {
  std::string dir = m_dir / "no-server";
  Error e = error_of([&] {
    cluster::open({fmt::format("postgresql://cube:s3cr%2Ft@/cube?host={}", dir), ""}, Access::write);
  });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.message(), fmt::format("socket {}/.s.PGSQL.5432", dir))) << e.message();
  EXPECT_TRUE(contains(e.message(), "No such file or directory")) << e.message();  // libpq's reason
  EXPECT_TRUE(contains(e.message(), "postgresql://cube:***@/cube")) << e.message();
  EXPECT_FALSE(contains(e.message(), "s3cr")) << e.message();
}

// libpq quotes a URL it cannot parse as written: the password percent-encoded, as well as decoded.
TEST_P(PgTest, AnUnparsableUrlIsQuotedWithoutThePassword) {
  for (std::string url : {"postgresql://cube:s3cr%2Ft@[db/cube", "postgresql://cube@[db/cube?password=s3cr%2Ft",
                          "postgresql://cube:s3cr%2Ft@[db/cube?password=an0th%2Fer"}) {
    Error e = error_of([&] { cluster::open({url, ""}, Access::write); });
    EXPECT_EQ(e.code(), Exit::failed);
    EXPECT_TRUE(contains(e.message(), "IPv6 host address")) << e.message();  // libpq's reason
    EXPECT_FALSE(contains(e.message(), "s3cr")) << e.message();
    EXPECT_FALSE(contains(e.message(), "an0th")) << e.message();
  }
}

// What a server says during the start-up, before the connection is handed over, goes to the
// store's notice processor (debug), not raw to stderr: here a preloaded plpgsql warns that it now
// reserves a setting's prefix. A server shutting down warns the same way.
TEST_P(PgTest, AWarningDuringTheStartUpIsNotPrintedRaw) {
  std::string url =
      test::PgServer::get().url() + "&options=-csession_preload_libraries%3Dplpgsql%20-cplpgsql.bogus%3D1";
  test::Redirect err(STDERR_FILENO);
  auto store = cluster::open({url, ""}, Access::read);
  EXPECT_EQ(err.text(), "");
}

// A socket that takes the connection and never answers: the start-up gives up after
// connect_timeout, as libpq's blocking connect would.
TEST_P(PgTest, AStartUpThatNeverEndsTimesOut) {
  std::string dir = m_dir / "silent";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = dir + "/.s.PGSQL.5432";
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  Error e = error_of([&] {
    cluster::open({fmt::format("postgresql://cube@/cube?host={}&connect_timeout=2", dir), ""}, Access::write);
  });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.message(), fmt::format("socket {}", path))) << e.message();
  EXPECT_TRUE(contains(e.message(), "timeout expired")) << e.message();
}

// Last in the file: the server is crashed and started again.
TEST_P(PgTest, ZzServerKilledMidTransactionLeavesNoPartialRows) {
  auto store = open();
  store->write([](Tx& tx) { add_node(tx, "kept"); });
  auto& server = test::PgServer::get();
  Error e = error_of([&] {
    store->write([&](Tx& tx) {
      add_node(tx, "half-1");
      server.crash();
      add_node(tx, "half-2");
    });
  });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.message(), "connection was lost")) << e.message();
  EXPECT_TRUE(contains(e.message(), "nothing of the transaction was written")) << e.message();
  server.restart();
  // The store whose connection was lost connects again at its next transaction.
  store->write([](Tx& tx) { add_node(tx, "after"); });
  auto again = open();
  std::string ids;
  again->read([&](Tx& tx) {
    auto rows = tx.query("SELECT id FROM nodes ORDER BY id");
    while (rows.next()) ids += std::string(rows.text(0)) + " ";
  });
  EXPECT_EQ(ids, "after kept ");
}

// --- URLs -------------------------------------------------------------------------------------------

TEST(ClusterUrl, RedactsThePasswordWhereverItIs) {
  EXPECT_EQ(cluster::redacted("postgresql://cube:secret@db.example:5432/cube"),
            "postgresql://cube:***@db.example:5432/cube");
  EXPECT_EQ(cluster::redacted("postgresql://cube@db/cube?sslmode=require&password=secret"),
            "postgresql://cube@db/cube?sslmode=require&password=***");
  EXPECT_EQ(cluster::redacted("postgresql://a:b@c@host/db"), "postgresql://a:***@host/db");
  EXPECT_EQ(cluster::redacted("postgresql://db/cube"), "postgresql://db/cube");
  EXPECT_EQ(cluster::redacted("postgresql:///cube?host=/run/pg"), "postgresql:///cube?host=/run/pg");
  using Secrets = std::vector<std::string>;
  EXPECT_EQ(cluster::secrets_of("postgresql://cube:s%2F3@db/cube"), (Secrets{"s%2F3", "s/3"}));
  EXPECT_EQ(cluster::secrets_of("postgresql://db/cube?password=x%40y&sslmode=require"), (Secrets{"x%40y", "x@y"}));
  EXPECT_EQ(cluster::secrets_of("postgresql://db/cube?password=plain"), (Secrets{"plain"}));
  EXPECT_EQ(cluster::secrets_of("postgresql://db/cube"), Secrets{});
  // Both places at once (libpq takes the parameter): each is a secret, the longest first.
  EXPECT_EQ(cluster::secrets_of("postgresql://cube:first@db/cube?password=second%21x&password=3"),
            (Secrets{"second%21x", "second!x", "first", "3"}));
}

TEST(ClusterUrl, EnvironmentThenConfigThenTheStateFile) {
  ::unsetenv("CUBE_CLUSTER_URL");
  auto cfg = config::Config::parse("[state]\ncluster = \"postgresql://db/cube\"\n", "cube.toml");
  EXPECT_EQ(cluster::choose("", cfg).url, "postgresql://db/cube");
  EXPECT_EQ(cluster::choose("", cfg).source, config::Source::config);
  EXPECT_EQ(cluster::choose("", config::Config::parse("", "cube.toml")).url, "");
  ::setenv("CUBE_CLUSTER_URL", "postgresql://other/cube", 1);
  EXPECT_EQ(cluster::choose("", cfg).url, "postgresql://other/cube");
  EXPECT_EQ(cluster::choose("postgres://flag/cube", cfg).url, "postgres://flag/cube");
  ::setenv("CUBE_CLUSTER_URL", "mysql://u:hunter2@db/cube", 1);
  Error e = error_of([&] { cluster::choose("", cfg); });
  ::unsetenv("CUBE_CLUSTER_URL");
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_TRUE(contains(e.message(), "mysql://u:***@db/cube")) << e.message();
  EXPECT_FALSE(contains(e.message(), "hunter2")) << e.message();
}

TEST(ClusterUrl, TheStateTableIsKnownToEveryTool) {
  auto cfg = config::Config::parse("[state]\ncluster = \"postgresql://db/cube\"\n", "cube.toml");
  test::Redirect err(STDERR_FILENO);
  config::Settings settings(cfg, "sched");
  settings.finish();
  EXPECT_EQ(err.text(), "");
}

}  // namespace
