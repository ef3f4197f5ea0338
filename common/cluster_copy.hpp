// cube::cluster::copy_tables — moving a tool's cluster tables from the SQLite state file into an
// empty PostgreSQL schema (`cube-sched migrate`, `cube-versions migrate`; cube-state(5),
// "Moving to PostgreSQL"). Each tool names its own tables, so that each tool alone writes them.
//
// Contract:
// - The source is read in one snapshot, the target written in one transaction: either every row
//   of every table arrives or none does (a failure rolls the whole copy back).
// - Tables are copied in the order given (parents before the tables that reference them).
// - A target table that already holds a row is refused (Exit::conflict) before anything is
//   written: a second run, or a copy onto a live cluster, merges nothing.
// - The column lists must be the target's columns exactly: a column the target has and the list
//   lacks is an internal error, so a migration that adds a column cannot be left out silently.
// - After the copy each table's count in the target is compared with the source's, in the same
//   transaction; an identity column's sequence is moved past the highest copied value, so rows
//   the tools add afterwards get fresh ids.
// - A value the target cannot hold (text that is not UTF-8, a NUL byte) is an error naming the
//   table and the row's first column.
#pragma once

#include "cluster.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace cube::cluster {

struct Column {
  std::string_view name;
  Param::Kind kind;  // integer, real or text
};

struct Table {
  std::string_view name;
  std::vector<Column> columns;  // the first identifies a row in messages
  std::string_view identity;    // a column with a generated value, or empty
};

struct Copied {
  std::string_view table;
  int64_t rows = 0;
};

std::vector<Copied> copy_tables(Store& from, Store& to, std::span<const Table> tables);

}  // namespace cube::cluster
