// Node-side collection: which components this node runs, at which versions (doc/cube-versions.md,
// "Collection").
//
// Never fails: heartbeats must not block on a missing file. A source that is absent or unreadable
// leaves its component out and adds a note (printed under -v).
#pragma once

#include "component.hpp"
#include "manifest.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cube::versions {

struct CollectInputs {
  std::string base;       // install base, /usr/local/services/cubetoolbox
  std::string bin_dir;    // where this node's cube tools are
  ManifestPath manifest;  // the release manifest, if any
  std::string self_name;  // the running tool, reported from its own stamp
};

struct Collected {
  std::vector<Component> components;  // sorted by component
  std::vector<std::string> notes;     // why something is absent
};

Collected collect(const CollectInputs& in);

// The directory of the running executable (/proc/self/exe).
std::string executable_dir();

}  // namespace cube::versions
