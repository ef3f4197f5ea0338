// cube::cluster::Store — the cluster-level tables (nodes, node_heartbeats, node_labels, allocations,
// node_component_version, node_version_report) behind one interface, in the SQLite state file or in
// PostgreSQL (cube-state(5), "Two backends"; doc/architecture.md, "The cluster store").
//
// Contract:
// - open(): an empty URL opens the SQLite state file (state::Db, its migrations and settings); a
//   postgresql:// URL connects through libpq (credentials from the URL, ~/.pgpass or PGPASSFILE)
//   and applies the embedded PostgreSQL migrations (common/migrations/pg/NNNN_name.sql), tracked in
//   cube_schema_version, under an advisory lock so that tools connecting at once migrate once. A
//   database whose schema is newer than the tool's is refused (exit 1, both versions named). A
//   connection that fails is exit 1 naming the host or socket with libpq's reason; the password is
//   never printed (redacted()).
// - SQL is written once for both: parameters are $1, $2, … (reusable, in any order), integers are
//   BIGINT columns, upserts are INSERT … ON CONFLICT … DO UPDATE, RETURNING replaces last-insert-id,
//   and nothing SQLite- or PostgreSQL-only (no INSERT OR REPLACE, no boolean sums: CASE WHEN).
//   One statement per call. Text compares byte-wise on both (COLLATE "C" on PostgreSQL).
// - write(body) runs body as one transaction and commits it: BEGIN IMMEDIATE on SQLite (the write
//   lock up front, 5 s busy timeout, exit 4); on PostgreSQL BEGIN ISOLATION LEVEL SERIALIZABLE,
//   where a serialization failure or deadlock (SQLSTATE 40001, 40P01) rolls back and runs body again
//   (at most k_max_attempts times, with jittered backoff; then exit 4). So body must only read and
//   write through its Tx and the variables it fills, which a retry overwrites. An exception from
//   body rolls back and passes through. Nothing is ever half-written: a server that goes away
//   mid-transaction is exit 1 and the transaction is gone with it.
// - read(body) runs body on one consistent snapshot (read-only; never retried, never conflicts).
// - Rows are valid until the next call on the Tx, and the Tx only inside body.
// - state_file(): on the SQLite backend, the state file's connection the store runs on, so that a
//   tool may read and write its node-local tables (templates, replicas) in the same transaction;
//   nullptr on PostgreSQL. on_state_file() runs SQL written for a Tx on a state file connection the
//   caller already holds, inside whatever transaction it is in.
#pragma once

#include "cluster_url.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cube::state {
class Db;
}

namespace cube::cluster {

enum class Backend { sqlite, postgresql };
enum class Access { read, write };

inline constexpr int k_max_attempts = 10;

// One bound parameter. Integers and booleans bind as 64-bit integers (0/1), text as text.
class Param {
 public:
  enum class Kind { null, integer, real, text };
  Param(std::nullptr_t) {}
  Param(int v) : m_kind(Kind::integer), m_integer(v) {}
  Param(int64_t v) : m_kind(Kind::integer), m_integer(v) {}
  Param(bool v) : m_kind(Kind::integer), m_integer(v ? 1 : 0) {}
  Param(double v) : m_kind(Kind::real), m_real(v) {}
  Param(std::string_view v) : m_kind(Kind::text), m_text(v) {}
  Param(const char* v) : m_kind(Kind::text), m_text(v) {}
  Param(const std::string& v) : m_kind(Kind::text), m_text(v) {}

  Kind kind() const { return m_kind; }
  int64_t integer() const { return m_integer; }
  double real() const { return m_real; }
  std::string_view text() const { return m_text; }

 private:
  Kind m_kind = Kind::null;
  int64_t m_integer = 0;
  double m_real = 0;
  std::string_view m_text;
};

using Params = std::initializer_list<Param>;
// The same, for a list built at run time (a row copied column by column).
using ParamSpan = std::span<const Param>;

// A query's result, read row by row. Columns are 0-based. A NULL reads as 0 or "", and a boolean
// (PostgreSQL's t/f) as 1 or 0, so readers need not know the backend.
class Rows {
 public:
  class Source {
   public:
    virtual ~Source() = default;
    virtual bool next() = 0;
    virtual int64_t integer(int column) const = 0;
    virtual double real(int column) const = 0;
    virtual std::string_view text(int column) const = 0;
    virtual bool is_null(int column) const = 0;
  };
  explicit Rows(std::unique_ptr<Source> source) : m_source(std::move(source)) {}

  // Advances; true while a row is available.
  bool next() { return m_source->next(); }
  int64_t integer(int column) const { return m_source->integer(column); }
  double real(int column) const { return m_source->real(column); }
  std::string_view text(int column) const { return m_source->text(column); }
  bool is_null(int column) const { return m_source->is_null(column); }

 private:
  std::unique_ptr<Source> m_source;
};

// What a transaction's body uses.
class Tx {
 public:
  virtual ~Tx() = default;
  Rows query(std::string_view sql, Params params = {}) {
    return do_query(sql, ParamSpan(params.begin(), params.size()));
  }
  Rows query(std::string_view sql, ParamSpan params) { return do_query(sql, params); }
  // Runs one statement to its end; the number of rows it inserted, updated or deleted.
  int64_t exec(std::string_view sql, Params params = {}) {
    return do_exec(sql, ParamSpan(params.begin(), params.size()));
  }
  int64_t exec(std::string_view sql, ParamSpan params) { return do_exec(sql, params); }

 private:
  virtual Rows do_query(std::string_view sql, ParamSpan params) = 0;
  virtual int64_t do_exec(std::string_view sql, ParamSpan params) = 0;
};

using Body = std::function<void(Tx&)>;

class Store {
 public:
  virtual ~Store() = default;
  virtual Backend backend() const = 0;
  // The state file's path or the redacted URL: what errors name.
  virtual const std::string& where() const = 0;
  virtual int schema_version() const = 0;

  virtual void write(const Body& body) = 0;
  virtual void read(const Body& body) = 0;
  // One statement as a transaction of its own, as write() would run it; the number of rows it
  // changed. PostgreSQL gets it alone, with no BEGIN and COMMIT around it: one round trip instead
  // of three, still SERIALIZABLE and retried (what a heartbeat costs, 2,000 times a second).
  int64_t write_one(std::string_view sql, Params params = {}) {
    return do_write_one(sql, ParamSpan(params.begin(), params.size()));
  }
  int64_t write_one(std::string_view sql, ParamSpan params) { return do_write_one(sql, params); }

  virtual state::Db* state_file() { return nullptr; }

 private:
  virtual int64_t do_write_one(std::string_view sql, ParamSpan params);
};

struct Target {
  std::string url;         // empty: the SQLite state file
  std::string state_path;  // the state file (state::path()), used when url is empty
};

std::unique_ptr<Store> open(const Target& target, Access access);

std::unique_ptr<Tx> on_state_file(state::Db& db);

// The number of the newest embedded PostgreSQL migration.
int latest_pg_schema_version();

}  // namespace cube::cluster
