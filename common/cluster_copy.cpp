#include "cluster_copy.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace cube::cluster {
namespace {

// Quoted: "commit" is a keyword on both.
std::string column_list(const Table& t) {
  std::string out;
  for (const Column& c : t.columns) out += fmt::format("{}\"{}\"", out.empty() ? "" : ", ", c.name);
  return out;
}

std::string insert_sql(const Table& t) {
  std::string values;
  for (size_t i = 1; i <= t.columns.size(); ++i) values += fmt::format("{}${}", i == 1 ? "" : ", ", i);
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", t.name, column_list(t), values);
}

int64_t count(Tx& tx, const Table& t) {
  Rows r = tx.query(fmt::format("SELECT COUNT(*) FROM {}", t.name));
  r.next();
  return r.integer(0);
}

// Every column the target has must be in the list: one it lacks would arrive as its default.
void check_columns(Tx& to, const Table& t) {
  Rows r = to.query(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
      {t.name});
  while (r.next()) {
    std::string_view name = r.text(0);
    if (std::none_of(t.columns.begin(), t.columns.end(), [&](const Column& c) { return c.name == name; }))
      throw Error(Exit::failed,
                  fmt::format("internal error: table {} has a column '{}' that migrate does not copy", t.name, name));
  }
}

void refuse_filled(Tx& to, const Table& t, const std::string& where) {
  Rows r = to.query(fmt::format("SELECT 1 FROM {} LIMIT 1", t.name));
  if (r.next())
    throw Error(Exit::conflict, fmt::format("{}: table {} already holds rows", where, t.name), "",
                "migrate copies into an empty schema only, so that nothing is merged; empty it or choose another");
}

Param value(const Rows& r, int c, Param::Kind kind) {
  if (r.is_null(c)) return nullptr;
  switch (kind) {
    case Param::Kind::integer: return r.integer(c);
    case Param::Kind::real: return r.real(c);
    default: return r.text(c);
  }
}

int64_t copy_rows(Tx& from, Tx& to, const Table& t) {
  Rows rows = from.query(fmt::format("SELECT {} FROM {}", column_list(t), t.name));
  std::string insert = insert_sql(t);
  std::vector<Param> params;
  int64_t n = 0;
  while (rows.next()) {
    params.clear();
    for (size_t c = 0; c < t.columns.size(); ++c) params.push_back(value(rows, static_cast<int>(c), t.columns[c].kind));
    try {
      to.exec(insert, params);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("copying table {}, row '{}'", t.name, rows.text(0)), e.message());
    }
    ++n;
  }
  return n;
}

// The next generated value follows the copied ones.
void move_identity(Tx& to, const Table& t) {
  if (t.identity.empty()) return;
  to.query(fmt::format("SELECT setval(pg_get_serial_sequence($1, $2), (SELECT COALESCE(MAX({1}), 0) + 1 FROM {0}), "
                       "false)",
                       t.name, t.identity),
           {t.name, t.identity});
}

}  // namespace

std::vector<Copied> copy_tables(Store& from, Store& to, std::span<const Table> tables) {
  if (to.backend() != Backend::postgresql) throw Error(Exit::failed, "internal error: migrate copies into PostgreSQL");
  std::vector<Copied> out;
  from.read([&](Tx& src) {
    to.write([&](Tx& dst) {
      out.clear();  // a retried attempt starts again
      for (const Table& t : tables) {
        check_columns(dst, t);
        refuse_filled(dst, t, to.where());
      }
      for (const Table& t : tables) {
        int64_t copied = copy_rows(src, dst, t);
        move_identity(dst, t);
        int64_t there = count(dst, t), here = count(src, t);
        if (there != here || copied != here)
          throw Error(Exit::failed, fmt::format("copying table {}: {} rows in the state file, {} copied, {} in {}",
                                                t.name, here, copied, there, to.where()));
        out.push_back({t.name, there});
      }
    });
  });
  return out;
}

}  // namespace cube::cluster
