// cube::units — the one parser for durations and the one for sizes (doc/conventions.md "Durations,
// sizes and times").
//
// Durations: an integer and a unit, `500ms`, `10s`, `5m`, `1h`, `2d`; a bare integer is refused so
// nobody has to guess the unit. Sizes: an integer with an optional K, M, G, T suffix in powers of
// 1024 (`512K`, `4M`, `10G`; `KiB`/`MiB`/`GiB` spellings too); a bare integer is bytes. Both throw
// cube::Error (exit 2) naming `what` (the flag or key) and the text on bad input or overflow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cube::units {

int64_t parse_duration_ms(std::string_view text, std::string_view what);
// A whole number in decimal, within [min, max]: an optional '-' (only when min < 0) and digits, nothing
// else (no '+', space, 0x or exponent). Out of range, overflow included, is "<text> is too large
// (at most <max>)" or "too small (at least <min>)"; both throw Error(usage) naming `what`.
int64_t parse_integer(std::string_view text, int64_t min, int64_t max, std::string_view what);
// A finite decimal number within [min, max] (digits, an optional fraction); no nan, inf, hex or
// exponent. Throws Error(usage) naming `what`.
double parse_real(std::string_view text, double min, double max, std::string_view what);
uint64_t parse_size(std::string_view text, std::string_view what);

// 1536 → "1.5K", 10737418240 → "10G": short, for tables.
std::string format_size(uint64_t bytes);

}  // namespace cube::units
