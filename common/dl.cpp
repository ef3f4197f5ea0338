#include "dl.hpp"

#include "error.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <string>

namespace cube::dl {
namespace {

std::string reason() {
  const char* why = dlerror();
  return why ? why : "unknown reason";
}

}  // namespace

void* open(const char* soname, std::string_view needed_for, std::string_view package) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error(Exit::failed, fmt::format("cannot load {} to {}", soname, needed_for), reason(),
                fmt::format("install the Debian package {}", package));
  return handle;
}

void* symbol(void* handle, const char* soname, const char* name, std::string_view newer_hint) {
  void* address = dlsym(handle, name);
  if (!address) throw Error(Exit::failed, fmt::format("{} has no {}", soname, name), reason(), std::string(newer_hint));
  return address;
}

}  // namespace cube::dl
