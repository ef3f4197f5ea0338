#include "cluster.hpp"

#include "cluster_backends.hpp"
#include "error.hpp"

#include <fmt/format.h>

namespace cube::cluster {

int64_t Store::do_write_one(std::string_view sql, ParamSpan params) {
  int64_t changed = 0;
  write([&](Tx& tx) { changed = tx.exec(sql, params); });
  return changed;
}

std::unique_ptr<Store> open(const Target& target, Access access) {
  if (target.url.empty()) return open_sqlite(target.state_path, access);
  if (!is_postgresql(target.url))
    throw Error(Exit::usage, fmt::format("cluster URL '{}' is not a PostgreSQL URL", redacted(target.url)),
                "it must start with postgresql://");
  return open_postgresql(target.url, access);
}

}  // namespace cube::cluster
