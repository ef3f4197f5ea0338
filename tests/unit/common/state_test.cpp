// cube::state against real SQLite files, including 32 processes writing one file at once.
#include "state.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "migrations.hpp"
#include "testing.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace cube;
using state::Access;
using state::Db;
using test::contains;
using test::error_of;

namespace {

int64_t pragma_int(Db& db, std::string_view name) {
  auto s = db.prepare(fmt::format("PRAGMA {}", name));
  EXPECT_TRUE(s.step()) << name;
  return s.integer(0);
}

int64_t count_rows(Db& db, std::string_view table) {
  auto s = db.prepare(fmt::format("SELECT count(*) FROM {}", table));
  s.step();
  return s.integer(0);
}

// Runs SQL on a file with plain sqlite3, bypassing cube::state, to build files in older shapes.
void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  EXPECT_EQ(rc, SQLITE_OK) << (msg ? msg : "");
  sqlite3_free(msg);
  sqlite3_close(db);
}

}  // namespace

TEST(State, PathPrecedence) {
  ::setenv("CUBE_STATE", "/env/state.db", 1);
  EXPECT_EQ(state::path("/flag/state.db"), "/flag/state.db");
  EXPECT_EQ(state::path(""), "/env/state.db");
  ::unsetenv("CUBE_STATE");
  EXPECT_EQ(state::path(""), state::k_default_path);
}

TEST(State, NewFileIs0600InNewDirectories0700) {
  test::TempDir tmp;
  test::Umask open_umask(0);  // the modes must not depend on a permissive umask
  std::string file = tmp / "a/b/state.db";
  Db db = Db::open(file, Access::write);
  EXPECT_EQ(test::mode_of(file), 0600);
  EXPECT_EQ(test::mode_of(tmp / "a"), 0700);
  EXPECT_EQ(test::mode_of(tmp / "a/b"), 0700);
  // SQLite gives the WAL the main file's mode; it must not be wider either.
  if (fs::exists(file + "-wal")) {
    EXPECT_EQ(test::mode_of(file + "-wal"), 0600);
  }
}

TEST(State, ExistingFileKeepsItsMode) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  { Db::open(file, Access::write); }
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  Db db = Db::open(file, Access::write);
  EXPECT_EQ(test::mode_of(file), 0640);
}

TEST(State, ConnectionSettings) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "state.db", Access::write);
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
  EXPECT_EQ(pragma_int(db, "foreign_keys"), 1);
  EXPECT_EQ(pragma_int(db, "query_only"), 0);
}

// Each tool is a process of its own: it opens the file alone, commits once and exits. The first
// connection rebuilds SQLite's WAL index by reading the whole log, so the log must stay bounded
// under that pattern, not only while a connection that writes twice keeps it rewound.
TEST(State, OneWritePerConnectionKeepsTheLogBounded) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  Db::open(file, Access::write).exec("CREATE TABLE t(x BLOB)");
  constexpr int sessions = 1200;  // a new page each: past the 1,000 of an automatic checkpoint
  for (int i = 0; i < sessions; ++i) {
    Db db = Db::open(file, Access::write);
    state::Transaction tx(db);
    db.exec("INSERT INTO t VALUES (zeroblob(3000))");
    tx.commit();
  }
  std::error_code ec;
  auto wal = std::filesystem::file_size(file + "-wal", ec);
  EXPECT_LE(ec ? 0 : wal, 4u << 20);
  Db db = Db::open(file, Access::read);
  EXPECT_EQ(count_rows(db, "t"), sessions);
}

TEST(State, ForeignKeysAreEnforced) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "state.db", Access::write);
  db.exec("CREATE TABLE parent(id INTEGER PRIMARY KEY); CREATE TABLE child(p INTEGER REFERENCES parent(id))");
  db.exec("INSERT INTO parent VALUES (1)");
  db.exec("INSERT INTO child VALUES (1)");
  Error e = error_of([&] { db.exec("INSERT INTO child VALUES (2)"); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_TRUE(contains(e.why(), "FOREIGN KEY")) << e.message();
}

TEST(State, EmbeddedMigrationsAreNumberedInOrder) {
  ASSERT_GE(state::k_migration_count, 1u);
  int previous = 0;
  for (size_t i = 0; i < state::k_migration_count; ++i) {
    const state::Migration& m = state::k_migrations[i];
    EXPECT_GT(m.number, previous) << m.name;
    EXPECT_NE(std::string(m.name), "");
    EXPECT_NE(std::string(m.sql), "");
    previous = m.number;
  }
  EXPECT_EQ(state::latest_schema_version(), previous);
}

TEST(State, FreshFileIsMigratedToLatest) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "state.db", Access::write);
  EXPECT_EQ(db.schema_version(), state::latest_schema_version());
  EXPECT_EQ(pragma_int(db, "user_version"), state::latest_schema_version());
  EXPECT_TRUE(db.table_exists("node_component_version"));
  EXPECT_FALSE(db.table_exists("no_such_table"));
}

TEST(State, ReopeningDoesNotReapplyMigrations) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  { Db::open(file, Access::write); }
  // A migration that ran again would fail on CREATE TABLE of an existing table.
  Db db = Db::open(file, Access::write);
  EXPECT_EQ(db.schema_version(), state::latest_schema_version());
}

TEST(State, OlderFileIsMigratedAndKeepsItsData) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  raw_sql(file, "CREATE TABLE keep(x TEXT); INSERT INTO keep VALUES ('old'); PRAGMA user_version=0");
  Db db = Db::open(file, Access::write);
  EXPECT_EQ(db.schema_version(), state::latest_schema_version());
  EXPECT_EQ(pragma_int(db, "user_version"), state::latest_schema_version());
  EXPECT_TRUE(db.table_exists("node_component_version"));
  EXPECT_EQ(count_rows(db, "keep"), 1);
}

TEST(State, UserVersionDecidesWhichMigrationsRun) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  // Marked as already at the latest version: nothing may run, so no table appears.
  raw_sql(file, fmt::format("PRAGMA user_version={}", state::latest_schema_version()));
  Db db = Db::open(file, Access::write);
  EXPECT_FALSE(db.table_exists("node_component_version"));
}

TEST(State, NewerFileIsRefusedAndLeftAlone) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  int newer = state::latest_schema_version() + 5;
  raw_sql(file, fmt::format("PRAGMA user_version={}", newer));
  for (Access access : {Access::write, Access::read}) {
    Error e = error_of([&] { Db::open(file, access); });
    EXPECT_EQ(e.code(), Exit::failed);
    EXPECT_TRUE(contains(e.what(), fmt::format("schema version {}, newer than this tool's", newer))) << e.message();
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), newer);
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST(State, FailedMigrationNamesItselfAndRollsBack) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  // The first migration's objects already exist while user_version says 0: applying it fails.
  raw_sql(file, state::k_migrations[0].sql);
  Error e = error_of([&] { Db::open(file, Access::write); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.what(), file)) << e.message();
  EXPECT_TRUE(contains(e.what(), fmt::format("{:04}_{}", state::k_migrations[0].number, state::k_migrations[0].name)))
      << e.message();
  EXPECT_TRUE(contains(e.why(), "already exists")) << e.message();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST(State, ReadAccessIsQueryOnly) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  {
    Db w = Db::open(file, Access::write);
    w.exec("CREATE TABLE t(x INTEGER)");
    w.exec("INSERT INTO t VALUES (1)");
  }
  Db db = Db::open(file, Access::read);
  EXPECT_EQ(pragma_int(db, "query_only"), 1);
  EXPECT_EQ(count_rows(db, "t"), 1);
  Error e = error_of([&] { db.exec("INSERT INTO t VALUES (2)"); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.what(), file)) << e.message();
  EXPECT_TRUE(contains(e.what(), "INSERT INTO t")) << e.message();
  EXPECT_TRUE(contains(e.why(), "readonly")) << e.message();
  Error viaStatement = error_of([&] { db.prepare("UPDATE t SET x = 3").run(); });
  EXPECT_TRUE(contains(viaStatement.what(), "UPDATE t")) << viaStatement.message();
  EXPECT_EQ(count_rows(db, "t"), 1);
}

TEST(State, ReadAccessOnMissingFileCreatesAMigratedFile) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "new/state.db", Access::read);
  EXPECT_EQ(db.schema_version(), state::latest_schema_version());
  EXPECT_EQ(test::mode_of(tmp / "new/state.db"), 0600);
}

TEST(State, TransactionCommitsOrRollsBack) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "state.db", Access::write);
  db.exec("CREATE TABLE t(x INTEGER)");
  {
    state::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES (?1)").bind_all(1).run();
  }  // not committed
  EXPECT_EQ(count_rows(db, "t"), 0);
  try {
    state::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES (?1)").bind_all(2).run();
    throw Error(Exit::failed, "boom");
  } catch (const Error&) {
  }
  EXPECT_EQ(count_rows(db, "t"), 0);
  {
    state::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES (?1)").bind_all(3).run();
    tx.commit();
  }
  EXPECT_EQ(count_rows(db, "t"), 1);
}

TEST(State, TransactionHoldsTheWriteLockAndWaitsTurnIntoConflict) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  Db a = Db::open(file, Access::write);
  Db b = Db::open(file, Access::write);
  b.exec("PRAGMA busy_timeout=50");  // the 5 s wait itself is not what this test is about
  state::Transaction held(a);
  Error e = error_of([&] { state::Transaction second(b); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_TRUE(contains(e.what(), file)) << e.message();
  EXPECT_TRUE(contains(e.what(), "BEGIN IMMEDIATE")) << e.message();
  held.commit();
  state::Transaction now_free(b);
  now_free.commit();
}

// The busy handler (state.cpp, wait_busy) waits for a lock held by another connection instead of
// failing: a writer that meets a held lock gets it once the holder commits.
TEST(State, WriterWaitsForTheLockToBeReleased) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  Db a = Db::open(file, Access::write);
  Db b = Db::open(file, Access::write);
  a.exec("CREATE TABLE t(x INTEGER)");
  auto held = std::make_unique<state::Transaction>(a);
  a.prepare("INSERT INTO t VALUES (1)").run();
  std::thread holder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    held->commit();
  });
  {
    state::Transaction second(b);  // waits for the commit above
    b.prepare("INSERT INTO t VALUES (2)").run();
    second.commit();
  }
  holder.join();
  EXPECT_EQ(count_rows(b, "t"), 2);
}

TEST(State, StatementsBindAndReadTypes) {
  test::TempDir tmp;
  Db db = Db::open(tmp / "state.db", Access::write);
  db.exec("CREATE TABLE t(i INTEGER, r REAL, s TEXT, n TEXT)");
  auto ins = db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  std::string with_nul("a\0b'; DROP TABLE t; --", 22);
  ins.bind_all(int64_t{1} << 40, 2.5, with_nul).bind_null(4).run();
  EXPECT_EQ(db.changes(), 1);
  EXPECT_EQ(db.last_insert_id(), 1);
  ins.bind_all(-7, 0.0, "x").bind_null(4).run();  // reused after run()
  auto sel = db.prepare("SELECT i, r, s, n FROM t ORDER BY rowid");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.integer(0), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(sel.real(1), 2.5);
  EXPECT_EQ(sel.text(2), with_nul);
  EXPECT_TRUE(sel.is_null(3));
  EXPECT_FALSE(sel.is_null(0));
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.integer(0), -7);
  EXPECT_FALSE(sel.step());
}

TEST(State, ErrorsNameTheOperationAndTheFile) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  Db db = Db::open(file, Access::write);
  Error prep = error_of([&] { db.prepare("SELEC nonsense"); });
  EXPECT_EQ(prep.code(), Exit::failed);
  EXPECT_TRUE(contains(prep.what(), file)) << prep.message();
  EXPECT_TRUE(contains(prep.what(), "preparing 'SELEC nonsense'")) << prep.message();
  EXPECT_TRUE(contains(prep.why(), "syntax error")) << prep.message();

  db.exec("CREATE TABLE u(k TEXT UNIQUE)");
  db.exec("INSERT INTO u VALUES ('a')");
  Error dup = error_of([&] { db.prepare("INSERT INTO u VALUES (?1)").bind_all("a").run(); });
  EXPECT_EQ(dup.code(), Exit::conflict);
  EXPECT_TRUE(contains(dup.what(), file)) << dup.message();
  EXPECT_TRUE(contains(dup.what(), "INSERT INTO u")) << dup.message();
  EXPECT_TRUE(contains(dup.why(), "UNIQUE")) << dup.message();
}

TEST(State, NonSqliteFileIsAClearError) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  test::write_text(file, std::string(8192, 'x'));
  Error e = error_of([&] { Db::open(file, Access::write); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.what(), file)) << e.message();
  EXPECT_TRUE(contains(e.why(), "not a database")) << e.message();
  EXPECT_TRUE(contains(e.hint(), "not a cube state file")) << e.message();
  EXPECT_EQ(test::mode_of(file), 0644);  // left as it was
}

TEST(State, UnusablePathsAreClearErrors) {
  test::TempDir tmp;
  EXPECT_EQ(error_of([&] { Db::open("", Access::write); }).code(), Exit::usage);
  test::write_text(tmp / "file", "x");
  Error under_file = error_of([&] { Db::open(tmp / "file/state.db", Access::write); });
  EXPECT_TRUE(contains(under_file.what(), tmp / "file")) << under_file.message();
  Error dir = error_of([&] { Db::open(tmp.path(), Access::write); });
  EXPECT_TRUE(contains(dir.what(), tmp.path())) << dir.message();
}

// ---- 32 processes write one fresh file at once ------------------------------------------------------

namespace {

// Waits for every child; returns how many did not exit 0.
int failures(const std::vector<pid_t>& children) {
  int failed = 0;
  for (pid_t pid : children) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  return failed;
}

constexpr int k_writers = 32;
constexpr int k_transactions = 100;
constexpr int k_rows_per_transaction = 5;

// One writer process: opens the (possibly not yet existing) file, then commits k_transactions
// transactions, each inserting rows and incrementing the shared counter read-modify-write.
int writer(const std::string& file, int id) {
  try {
    Db db = Db::open(file, Access::write);
    {
      state::Transaction tx(db);
      db.exec("CREATE TABLE IF NOT EXISTS hits(writer INTEGER, n INTEGER, UNIQUE (writer, n))");
      db.exec("CREATE TABLE IF NOT EXISTS counter(id INTEGER PRIMARY KEY, value INTEGER NOT NULL)");
      db.exec("INSERT OR IGNORE INTO counter VALUES (1, 0)");
      tx.commit();
    }
    auto insert = db.prepare("INSERT INTO hits(writer, n) VALUES (?1, ?2)");
    auto read = db.prepare("SELECT value FROM counter WHERE id = 1");
    auto update = db.prepare("UPDATE counter SET value = ?1 WHERE id = 1");
    for (int t = 0; t < k_transactions; ++t) {
      state::Transaction tx(db);
      for (int r = 0; r < k_rows_per_transaction; ++r) insert.bind_all(id, t * k_rows_per_transaction + r).run();
      if (!read.step()) throw Error(Exit::failed, "counter row missing");
      int64_t value = read.integer(0);
      read.reset();
      update.bind_all(value + 1).run();
      tx.commit();
    }
    return 0;
  } catch (const Error& e) {
    fmt::print(stderr, "writer {}: {}\n", id, e.message());
  } catch (const std::exception& e) {
    fmt::print(stderr, "writer {}: {}\n", id, e.what());
  }
  return 1;
}

}  // namespace

TEST(State, ThirtyTwoProcessesWriteOneFreshFileAtOnce) {
  test::TempDir tmp;
  std::string file = tmp / "fresh/state.db";
  // The children block on this pipe until the parent closes its write end: all start together.
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < k_writers; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(gate[1]);
      char c;
      while (::read(gate[0], &c, 1) > 0) {
      }
      ::_exit(writer(file, i));
    }
    children.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);
  int failed = failures(children);
  EXPECT_EQ(failed, 0) << "writers failed (their errors are on stderr above)";

  Db db = Db::open(file, Access::read);
  int64_t expected_rows = int64_t{k_writers} * k_transactions * k_rows_per_transaction;
  EXPECT_EQ(count_rows(db, "hits"), expected_rows);
  auto distinct = db.prepare("SELECT count(*) FROM (SELECT DISTINCT writer, n FROM hits)");
  distinct.step();
  EXPECT_EQ(distinct.integer(0), expected_rows);
  auto per_writer = db.prepare(
      "SELECT count(DISTINCT writer), min(c), max(c) FROM "
      "(SELECT writer, count(*) AS c FROM hits GROUP BY writer)");
  per_writer.step();
  EXPECT_EQ(per_writer.integer(0), k_writers);
  EXPECT_EQ(per_writer.integer(1), k_transactions * k_rows_per_transaction);
  EXPECT_EQ(per_writer.integer(2), k_transactions * k_rows_per_transaction);
  auto counter = db.prepare("SELECT value FROM counter WHERE id = 1");
  ASSERT_TRUE(counter.step());
  EXPECT_EQ(counter.integer(0), int64_t{k_writers} * k_transactions);
  EXPECT_EQ(db.schema_version(), state::latest_schema_version());
  EXPECT_EQ(test::mode_of(file), 0600);
}

namespace {

// One reader process: polls the counter with a read-only connection; it must never fail and never
// see the value go backwards.
int reader(const std::string& file, int64_t until) {
  try {
    Db db = Db::open(file, Access::read);
    auto read = db.prepare("SELECT value FROM counter WHERE id = 1");
    int64_t last = 0;
    // Not a timing assertion: only keeps a reader from spinning forever when a writer died.
    int64_t give_up_ms = time::now_ms() + 60'000;
    while (last < until) {
      if (time::now_ms() > give_up_ms) throw Error(Exit::failed, fmt::format("counter stuck at {}", last));
      if (!read.step()) throw Error(Exit::failed, "counter row missing");
      int64_t value = read.integer(0);
      read.reset();
      if (value < last) throw Error(Exit::failed, fmt::format("counter went back from {} to {}", last, value));
      last = value;
    }
    return 0;
  } catch (const Error& e) {
    fmt::print(stderr, "reader: {}\n", e.message());
  }
  return 1;
}

}  // namespace

TEST(State, ReadersRunAlongsideWriters) {
  test::TempDir tmp;
  std::string file = tmp / "state.db";
  {
    Db db = Db::open(file, Access::write);
    db.exec("CREATE TABLE counter(id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0)");
  }
  constexpr int k_each = 8;
  std::vector<pid_t> children;
  for (int i = 0; i < 2 * k_each; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(i < k_each ? writer(file, i) : reader(file, int64_t{k_each} * k_transactions));
    children.push_back(pid);
  }
  int failed = failures(children);
  EXPECT_EQ(failed, 0) << "readers or writers failed (their errors are on stderr above)";
}

TEST(State, AFifoOrADirectoryIsRefusedBeforeSqliteReadsIt) {
  test::TempDir tmp;
  std::string fifo = tmp / "state.db";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Error e = error_of([&] { Db::open(fifo, Access::read); });
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_TRUE(contains(e.what(), fifo + " is not a regular file")) << e.message();
  Error d = error_of([&] { Db::open(tmp.path(), Access::write); });
  EXPECT_TRUE(contains(d.what(), "is not a regular file")) << d.message();
}

TEST(State, AnotherSchemaNamesItsKindAndKeepsItsOwnVersion) {
  test::TempDir tmp;
  static constexpr state::Migration k_other[] = {{1, "one", "CREATE TABLE one (a INTEGER)"},
                                                 {2, "two", "CREATE TABLE two (b INTEGER)"}};
  state::Schema other{"cache file", k_other};
  std::string file = tmp / "cache";
  {
    Db db = Db::open(file, Access::write, other);
    EXPECT_EQ(db.schema_version(), 2);
    EXPECT_TRUE(db.table_exists("two"));
    EXPECT_FALSE(db.table_exists("egress_rules"));
  }
  // The state file's newer version is refused as that kind's, naming it.
  Db::open(tmp / "state.db", Access::write);
  Error e = error_of([&] { Db::open(tmp / "state.db", Access::read, other); });
  EXPECT_TRUE(contains(e.what(), "cache file " + tmp / "state.db")) << e.message();
}
