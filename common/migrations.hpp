// The migrations embedded at build time, ordered by number: the SQLite state file's from
// common/migrations/NNNN_name.sql (build/gen/migrations.cpp) and the cluster store's PostgreSQL
// ones from common/migrations/pg/NNNN_name.sql (build/gen/pg_migrations.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cube::state {

struct Migration {
  int number;
  const char* name;
  const char* sql;
};

extern const Migration k_migrations[];
extern const size_t k_migration_count;
extern const Migration k_pg_migrations[];
extern const size_t k_pg_migration_count;

// Throws Error(failed) when `found`, the schema version a store records, is newer than `known`,
// this tool's: a newer release migrated it, and writing it with older queries could lose data.
// `store` names it in the message ("state file /var/lib/cube/state.db").
void refuse_newer_schema(std::string_view store, int64_t found, int64_t known);

}  // namespace cube::state
