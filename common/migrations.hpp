// The migrations embedded at build time, ordered by number: the SQLite state file's from
// common/migrations/NNNN_name.sql (build/gen/migrations.cpp) and the cluster store's PostgreSQL
// ones from common/migrations/pg/NNNN_name.sql (build/gen/pg_migrations.cpp).
#pragma once

#include <cstddef>

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

}  // namespace cube::state
