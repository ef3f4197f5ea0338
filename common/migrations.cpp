#include "migrations.hpp"

#include "error.hpp"

#include <fmt/format.h>

namespace cube::state {

void refuse_newer_schema(std::string_view store, int64_t found, int64_t known) {
  if (found <= known) return;
  throw Error(Exit::failed, fmt::format("{} has schema version {}, newer than this tool's {}", store, found, known),
              "a newer release migrated it", "use the tools of that release (or newer) with it");
}

}  // namespace cube::state
