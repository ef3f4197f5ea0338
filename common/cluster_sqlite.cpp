// The cluster store in the SQLite state file: state::Db underneath, its migrations and settings,
// with $N parameters bound by name so that the SQL PostgreSQL takes runs here unchanged.
#include "cluster_backends.hpp"
#include "error.hpp"
#include "state.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace cube::cluster {
namespace {

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, Finalize>;

class SqliteRows final : public Rows::Source {
 public:
  SqliteRows(state::Db& db, StmtPtr stmt) : m_db(db), m_stmt(std::move(stmt)) {}
  bool next() override {
    int rc = sqlite3_step(m_stmt.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string sql = sqlite3_sql(m_stmt.get());
    m_db.raise(rc, fmt::format("running '{}'", sql.substr(0, 60)));
  }
  int64_t integer(int c) const override { return sqlite3_column_int64(m_stmt.get(), c); }
  double real(int c) const override { return sqlite3_column_double(m_stmt.get(), c); }
  std::string_view text(int c) const override {
    const unsigned char* p = sqlite3_column_text(m_stmt.get(), c);
    if (!p) return {};
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(m_stmt.get(), c))};
  }
  bool is_null(int c) const override { return sqlite3_column_type(m_stmt.get(), c) == SQLITE_NULL; }

 private:
  state::Db& m_db;
  StmtPtr m_stmt;
};

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(state::Db& db) : m_db(db) {}
  Rows do_query(std::string_view sql, ParamSpan params) override {
    return Rows(std::make_unique<SqliteRows>(m_db, prepare(sql, params)));
  }
  int64_t do_exec(std::string_view sql, ParamSpan params) override {
    SqliteRows rows(m_db, prepare(sql, params));
    while (rows.next()) {
    }
    return sqlite3_changes64(m_db.handle());
  }

 private:
  StmtPtr prepare(std::string_view sql, ParamSpan params);
  void bind(sqlite3_stmt* s, int index, const Param& p);

  state::Db& m_db;
};

// PostgreSQL numbers its parameters; SQLite takes "$1" as a parameter named "$1", so each value is
// bound by that name: a number used twice is one parameter, and the order in the text is free.
// The counts must agree, as PostgreSQL insists, so a query that works here works there.
StmtPtr SqliteTx::prepare(std::string_view sql, ParamSpan params) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(m_db.handle(), sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) m_db.raise(rc, fmt::format("preparing '{}'", sql.substr(0, 60)));
  std::string_view rest(tail, sql.data() + sql.size() - tail);
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos)
    throw Error(Exit::failed, fmt::format("internal error: more than one statement in '{}'", sql.substr(0, 60)));
  if (sqlite3_bind_parameter_count(raw) != static_cast<int>(params.size()))
    throw Error(Exit::failed, fmt::format("internal error: '{}' takes {} parameters, given {}", sql.substr(0, 60),
                                          sqlite3_bind_parameter_count(raw), params.size()));
  int number = 0;
  for (const Param& p : params) {
    std::string name = fmt::format("${}", ++number);
    int index = sqlite3_bind_parameter_index(raw, name.c_str());
    if (index == 0)
      throw Error(Exit::failed, fmt::format("internal error: '{}' has no parameter {}", sql.substr(0, 60), name));
    bind(raw, index, p);
  }
  return stmt;
}

void SqliteTx::bind(sqlite3_stmt* s, int index, const Param& p) {
  int rc = SQLITE_OK;
  switch (p.kind()) {
    case Param::Kind::null: rc = sqlite3_bind_null(s, index); break;
    case Param::Kind::integer: rc = sqlite3_bind_int64(s, index, p.integer()); break;
    case Param::Kind::real: rc = sqlite3_bind_double(s, index, p.real()); break;
    case Param::Kind::text:
      rc = sqlite3_bind_text64(s, index, p.text().data(), p.text().size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
  }
  if (rc != SQLITE_OK) m_db.raise(rc, "binding a parameter");
}

// Ends a read snapshot however its body ends.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(state::Db& db) : m_db(db) { m_db.exec("BEGIN"); }
  ~ReadSnapshot() { sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  state::Db& m_db;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, Access access)
      : m_db(state::Db::open(path, access == Access::read ? state::Access::read : state::Access::write)) {}
  Backend backend() const override { return Backend::sqlite; }
  const std::string& where() const override { return m_db.path(); }
  int schema_version() const override { return m_db.schema_version(); }

  void write(const Body& body) override {
    state::Transaction tx(m_db);
    SqliteTx t(m_db);
    body(t);
    tx.commit();
  }
  void read(const Body& body) override {
    ReadSnapshot snapshot(m_db);
    SqliteTx t(m_db);
    body(t);
  }
  state::Db* state_file() override { return &m_db; }

 private:
  state::Db m_db;
};

}  // namespace

std::unique_ptr<Tx> on_state_file(state::Db& db) { return std::make_unique<SqliteTx>(db); }

std::unique_ptr<Store> open_sqlite(const std::string& path, Access access) {
  return std::make_unique<SqliteStore>(path, access);
}

}  // namespace cube::cluster
