#include "cluster_libpq.hpp"

#include "dl.hpp"

#include <mutex>

namespace cube::cluster {
namespace {

constexpr const char* k_soname = "libpq.so.5";

Libpq load() {
  void* handle = dl::open(k_soname, "reach the cluster database", "libpq5");
  Libpq pq;
#define CUBE_LIBPQ_LOAD(name) dl::bind(pq.name, handle, k_soname, #name, "install a libpq5 of PostgreSQL 10 or newer");
  CUBE_LIBPQ_FUNCTIONS(CUBE_LIBPQ_LOAD)
#undef CUBE_LIBPQ_LOAD
  return pq;
}

}  // namespace

const Libpq& libpq() {
  // Threads may connect at once (the tests do): the first loads, the others wait for it.
  static std::once_flag once;
  static Libpq table;
  std::call_once(once, [] { table = load(); });
  return table;
}

}  // namespace cube::cluster
