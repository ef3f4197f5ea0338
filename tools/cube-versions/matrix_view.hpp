// The matrix as people and programs see it: nested JSON (the shape cube-versions(1) documents
// under OUTPUT), a component summary and a node grid for the terminal, and a long form (one row
// per node and component) for JSON Lines and TSV.
#pragma once

#include "matrix.hpp"
#include "output.hpp"
#include "version.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace cube::versions {

// Writes the JSON document to `sink` in pieces of about 64 KiB, the last ending in a newline.
void matrix_json(const Matrix& m, const version::Stamp& control_plane,
                 const std::function<void(std::string_view)>& sink);
output::Table components_table(const Matrix& m);
output::Table node_grid(const Matrix& m);
output::Table long_table(const Matrix& m);

// Shortens `tag@sha256:<64 hex>` to `tag@sha256:<12 hex>` for the table; other text unchanged.
std::string short_version(const std::string& v);

}  // namespace cube::versions
