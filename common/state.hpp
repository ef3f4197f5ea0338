// cube::state — the one SQLite state file every tool shares.
//
// Contract:
// - path(): --state flag, else $CUBE_STATE, else /var/lib/cube/state.db.
// - Db::open creates the file 0600 (its directory 0700) when missing, sets WAL, busy_timeout 5 s and
//   foreign_keys, and applies the embedded migrations (common/migrations/NNNN_*.sql) in order,
//   tracked with PRAGMA user_version. Access::read then makes the connection query-only.
// - A file whose user_version is newer than this tool's newest migration is refused (exit 1, both
//   versions named) before anything is written to it: this tool cannot know what the newer schema
//   means. A symbolic link anywhere in the path is refused, and the error says so.
// - Every write is one Transaction (BEGIN IMMEDIATE): it takes the write lock up front, so a
//   read-modify-write inside it cannot race another process. Lock waits beyond the busy timeout
//   become Error(conflict, exit 4).
// - Statements bind parameters only; errors name the operation and the file.
#pragma once

#include "migrations.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cube::state {

inline constexpr std::string_view k_default_path = "/var/lib/cube/state.db";
// How long a statement waits for another process's lock before Error(conflict).
inline constexpr int k_busy_timeout_ms = 5000;

// The state file path from the flag value (may be empty), the environment, or the default.
std::string path(std::string_view flag);

enum class Access { read, write };

// What a file opened through Db holds: its name in messages ("state file") and the migrations that
// make its schema, numbered from 1 and tracked with PRAGMA user_version.
struct Schema {
  std::string_view kind;
  std::span<const Migration> migrations;
  int latest() const { return migrations.empty() ? 0 : migrations.back().number; }
};
// The shared state file's (common/migrations/NNNN_*.sql).
const Schema& state_schema();

class Db;

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, int64_t v);
  Statement& bind(int index, int v) { return bind(index, static_cast<int64_t>(v)); }
  Statement& bind(int index, double v);
  Statement& bind(int index, std::string_view v);
  Statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  Statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
  Statement& bind_null(int index);

  // Binds each argument to parameters 1, 2, … in order.
  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances; true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  int64_t integer(int column) const;
  double real(int column) const;
  // Valid until the next step/reset.
  std::string_view text(int column) const;
  bool is_null(int column) const;

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Db* m_db;
  std::unique_ptr<sqlite3_stmt, Finalize> m_stmt;
};

class Db {
 public:
  // Another SQLite file the tools keep beside the state file opens the same way with its own schema;
  // `busy_ms` bounds every wait for a lock, the open's own included.
  static Db open(const std::string& path, Access access, const Schema& schema = state_schema(),
                 int busy_ms = k_busy_timeout_ms);
  Db(Db&&) noexcept = default;
  Db& operator=(Db&&) noexcept = default;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(*this, sql); }
  bool table_exists(std::string_view name);
  int64_t last_insert_id() const;
  int changes() const;

  sqlite3* handle() const { return m_db.get(); }
  const std::string& path() const { return m_path; }
  int schema_version() const { return m_schema_version; }

  // Throws the Error for SQLite result code `rc` while `doing` something.
  [[noreturn]] void raise(int rc, std::string_view doing) const;

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  Db(std::string path, sqlite3* db, const Schema& schema, int busy_ms)
      : m_path(std::move(path)), m_db(db), m_schema(&schema), m_busy_ms(busy_ms) {}
  void check_schema();
  void configure();
  void enable_wal();
  void keep_wal_on_close();
  void migrate();

  std::string m_path;
  std::unique_ptr<sqlite3, Close> m_db;
  const Schema* m_schema;
  int m_busy_ms;
  int m_schema_version = 0;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& m_db;
  bool m_open = true;
};

// The number of the newest embedded migration.
int latest_schema_version();

}  // namespace cube::state
