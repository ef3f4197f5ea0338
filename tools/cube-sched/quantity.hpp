// cube::sched::quantity — Kubernetes resource quantities (`64Gi`, `8000m`, `8`, `1.5G`, `1e3`), for
// Gt/Lt selector comparisons and for CPU flags.
//
// Contract: parse() accepts an optional sign, a decimal number (digits with an optional fraction),
// and an optional suffix: binary Ki Mi Gi Ti Pi Ei, decimal n u m k M G T P E, or an exponent
// e/E<int>. The value is held exactly in nano units (a fraction finer than 1n rounds up, as
// Kubernetes does). Anything else, including values beyond ±1e29, is not a quantity: nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cube::sched {

struct Quantity {
  __int128 nano = 0;  // value × 10⁹
  friend auto operator<=>(const Quantity&, const Quantity&) = default;
};

std::optional<Quantity> parse_quantity(std::string_view text);

// CPU as millicores from a quantity (`16` → 16000, `2500m` → 2500); throws Error(usage) naming
// `what` unless the text is a positive whole number of millicores.
int64_t parse_millicores(std::string_view text, std::string_view what);

}  // namespace cube::sched
