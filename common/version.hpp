// cube::version — the build stamp every binary carries, in upstream's format (doc/upstream.md,
// "What we keep").
//
// The Makefile writes build/gen/stamp.cpp with the version (CUBE_RELEASE_VERSION, else
// `git describe --tags --match 'v*'`, else 0.0.0-dev), the commit (CUBE_RELEASE_COMMIT, else
// `git rev-parse HEAD`, else unknown) and the UTC build time (CUBE_RELEASE_BUILD_TIME, else now).
// The same stamp is embedded as a what(1)-style marker, so cube-versions can read a tool's version
// from its file without running it.
#pragma once

#include <string>
#include <string_view>

namespace cube::version {

struct Stamp {
  std::string version;
  std::string commit;
  std::string build_time;
};

const Stamp& current();

// `cube-x 1.2.3 (abc…) built at 2026-11-29T19:48:53Z`
std::string line(std::string_view tool);
// {"name":…,"version":…,"commit":…,"build_time":…}
std::string json(std::string_view tool);

}  // namespace cube::version
