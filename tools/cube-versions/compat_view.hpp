// The compatibility matrix rendered: the terminal grid (a row per template, a column per node) with
// its summary, the nested JSON document, the long form for JSON Lines and TSV (a row per cell), and
// the per-template detail of `compat show` with the command that mends each cell.
#pragma once

#include "compat_matrix.hpp"
#include "output.hpp"
#include "output_stream.hpp"

#include <functional>
#include <string_view>

namespace cube::versions {

output::Table compat_grid(const CompatMatrix& m);
output::Table compat_summary(const CompatMatrix& m);
void compat_json(const CompatMatrix& m, const std::function<void(std::string_view)>& sink);
// The long form, a row per cell, added to `rows` as they are made: 250k cells would be a Table of
// two million strings. compat_long_columns() are the stream's columns.
std::vector<output::Column> compat_long_columns();
void compat_long(const CompatMatrix& m, output::RowStream& rows);
// The long form as TSV, byte for byte what compat_long gives a TSV RowStream, assembled from
// pieces escaped once: a matrix repeats a few node IDs and bindings a quarter of a million times.
void compat_tsv(const CompatMatrix& m, const std::function<void(std::string_view)>& sink);

// compat show: one row per node of the (single) template in `m`. `machine`: bound and current
// versions as separate fields instead of `bound -> current` text.
output::Table compat_detail(const CompatMatrix& m, bool machine);

// The command that mends a cell: redo for STALE, distribute for MISSING, adopt-baseline for an
// UNKNOWN replica bound to nothing on a healthy node that reports; "" otherwise.
std::string fix_command(const CompatMatrix& m, const CompatTemplate& t, const CompatCell& c);

}  // namespace cube::versions
