// cube::dl — a shared library opened with dlopen() when a command first needs it, not linked, so
// that the commands that never use it do not load it at start (libpq for the cluster store,
// libnftables for the network tools). A library opened here is never closed: it stays for the life
// of the process, as if it had been linked.
#pragma once

#include <string_view>

namespace cube::dl {

// Opens SONAME (RTLD_NOW: a missing symbol fails here, not mid-command). Throws Error(failed)
// saying what it was loaded for and which Debian package installs it.
void* open(const char* soname, std::string_view needed_for, std::string_view package);

// NAME in a library open() returned. Throws Error(failed) naming both, with NEWER_HINT ("install a
// libpq5 of PostgreSQL 10 or newer") as the hint.
void* symbol(void* handle, const char* soname, const char* name, std::string_view newer_hint);

// Points FN at symbol() NAME, typed as FN is: one line per function of a table filled from an
// X-macro list.
template <typename F>
void bind(F*& fn, void* handle, const char* soname, const char* name, std::string_view newer_hint) {
  fn = reinterpret_cast<F*>(symbol(handle, soname, name, newer_hint));
}

}  // namespace cube::dl
