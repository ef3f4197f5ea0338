// cube::versions binary_stamp — what a cube tool's file says about itself, read without running it:
// its SHA-256 and the build stamp it carries (common/version.hpp writes it as a what(1)-style
// marker, `@(#)cube-stamp version=V commit=C build_time=T`).
//
// Contract: one pass over the file in 4 MiB reads; the marker is found wherever it falls, across a
// read boundary too, and text that only starts like a marker is skipped. A missing file is
// Error(not_found), another failure to open or read Error(failed); a file without a marker is no
// error (stamp is empty).
#pragma once

#include "version.hpp"

#include <optional>
#include <string>

namespace cube::versions {

struct BinaryInfo {
  std::string sha256;
  std::optional<version::Stamp> stamp;
};

BinaryInfo inspect_binary(const std::string& path);

}  // namespace cube::versions
