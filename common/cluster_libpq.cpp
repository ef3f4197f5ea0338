#include "cluster_libpq.hpp"

#include "error.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

namespace cube::cluster {
namespace {

constexpr const char* k_soname = "libpq.so.5";

std::string dl_reason() {
  const char* why = dlerror();
  return why ? why : "unknown reason";
}

// Never closed: the library stays for the life of the process, as if it had been linked.
Libpq load() {
  void* handle = dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error(Exit::failed, fmt::format("cannot load {} to reach the cluster database", k_soname), dl_reason(),
                "install the Debian package libpq5");
  Libpq pq;
#define CUBE_LIBPQ_LOAD(name)                                                            \
  pq.name = reinterpret_cast<decltype(pq.name)>(dlsym(handle, #name));                   \
  if (!pq.name)                                                                          \
    throw Error(Exit::failed, fmt::format("{} has no {}", k_soname, #name), dl_reason(), \
                "install a libpq5 of PostgreSQL 10 or newer");
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
