// The migrations embedded at build time from common/migrations/NNNN_name.sql (generated source in
// build/gen/migrations.cpp, ordered by number).
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

}  // namespace cube::state
