// Migration 0009 moves the heartbeat columns of nodes into node_heartbeats: a file written before
// it keeps every heartbeat, and a node never heard from gets no row.
#include "migrations.hpp"
#include "state.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

using namespace cube;

namespace {

constexpr int k_split = 9;

// The file as a release before the split left it: migrations 1 to 8 and two nodes.
void write_old_file(const std::string& path) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  for (size_t i = 0; i < state::k_migration_count && state::k_migrations[i].number < k_split; ++i)
    ASSERT_EQ(sqlite3_exec(raw, state::k_migrations[i].sql, nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "INSERT INTO nodes (id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent) "
                         "VALUES ('heard', 1700000000000, 1, 12.5, 4096, 33.25), ('silent', 0, 0, 0, 0, 0); "
                         "PRAGMA user_version=8",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
}

}  // namespace

TEST(HeartbeatSplit, MigrationKeepsEveryHeartbeat) {
  test::TempDir tmp;
  write_old_file(tmp / "state.db");
  auto db = state::Db::open(tmp / "state.db", state::Access::write);
  auto s = db.prepare(
      "SELECT node_id, heartbeat_ms, ready, cpu_util, mem_free_bytes, disk_used_percent FROM node_heartbeats");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), "heard");
  EXPECT_EQ(s.integer(1), 1700000000000);
  EXPECT_EQ(s.integer(2), 1);
  EXPECT_DOUBLE_EQ(s.real(3), 12.5);
  EXPECT_EQ(s.integer(4), 4096);
  EXPECT_DOUBLE_EQ(s.real(5), 33.25);
  EXPECT_FALSE(s.step());  // "silent" never sent one
  auto cols = db.prepare("SELECT COUNT(*) FROM pragma_table_info('nodes') WHERE name IN ('heartbeat_ms', 'ready')");
  ASSERT_TRUE(cols.step());
  EXPECT_EQ(cols.integer(0), 0);
  // Removing a node removes its heartbeat.
  db.exec("DELETE FROM nodes WHERE id = 'heard'");
  auto left = db.prepare("SELECT COUNT(*) FROM node_heartbeats");
  ASSERT_TRUE(left.step());
  EXPECT_EQ(left.integer(0), 0);
}
