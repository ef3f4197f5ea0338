#include "units.hpp"

#include "error.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace cube::units {
namespace {

struct Split {
  uint64_t number = 0;
  std::string_view suffix;
  bool ok = false;
};

Split split_number(std::string_view text, std::string_view what) {
  Split out;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out.number);
  if (ec == std::errc::result_out_of_range)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text),
                fmt::format("value too large: at most {} digits", std::numeric_limits<uint64_t>::digits10));
  if (ec != std::errc() || ptr == text.data()) return out;
  out.suffix = text.substr(static_cast<size_t>(ptr - text.data()));
  out.ok = true;
  return out;
}

[[noreturn]] void bad(std::string_view what, std::string_view text, std::string_view expected) {
  throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text), std::string(expected));
}

uint64_t scaled(uint64_t n, uint64_t factor, std::string_view what, std::string_view text) {
  if (factor != 0 && n > std::numeric_limits<int64_t>::max() / factor)
    bad(what, text, fmt::format("value too large: at most {} in all", std::numeric_limits<int64_t>::max()));
  return n * factor;
}

}  // namespace

int64_t parse_duration_ms(std::string_view text, std::string_view what) {
  static constexpr std::string_view k_expected = "expected a number with a unit: 500ms, 10s, 5m, 1h, 2d";
  Split s = split_number(text, what);
  if (!s.ok) bad(what, text, k_expected);
  uint64_t factor = 0;
  if (s.suffix == "ms")
    factor = 1;
  else if (s.suffix == "s")
    factor = 1000;
  else if (s.suffix == "m")
    factor = 60'000;
  else if (s.suffix == "h")
    factor = 3'600'000;
  else if (s.suffix == "d")
    factor = 86'400'000;
  else
    bad(what, text, k_expected);
  return static_cast<int64_t>(scaled(s.number, factor, what, text));
}

uint64_t parse_size(std::string_view text, std::string_view what) {
  static constexpr std::string_view k_expected = "expected bytes or a size like 512K, 4M, 10G (powers of 1024)";
  Split s = split_number(text, what);
  if (!s.ok) bad(what, text, k_expected);
  std::string_view u = s.suffix;
  if (u.size() == 3 && u.substr(1) == "iB")
    u = u.substr(0, 1);
  else if (u.size() == 2 && (u[1] == 'B' || u[1] == 'i'))
    u = u.substr(0, 1);
  uint64_t factor = 0;
  if (u.empty() || u == "B")
    factor = 1;
  else if (u == "K" || u == "k")
    factor = 1ULL << 10;
  else if (u == "M")
    factor = 1ULL << 20;
  else if (u == "G")
    factor = 1ULL << 30;
  else if (u == "T")
    factor = 1ULL << 40;
  else
    bad(what, text, k_expected);
  return scaled(s.number, factor, what, text);
}

int64_t parse_integer(std::string_view text, int64_t min, int64_t max, std::string_view what) {
  auto range = [&] { return min == max ? fmt::format("exactly {}", min) : fmt::format("from {} to {}", min, max); };
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  bool all_digits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!all_digits)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text),
                fmt::format("expected a whole number {}", range()));
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  bool low = ec == std::errc::result_out_of_range ? negative : v < min;
  bool high = ec == std::errc::result_out_of_range ? !negative : v > max;
  if (low) throw Error(Exit::usage, fmt::format("{} {} is too small", what, text), fmt::format("at least {}", min));
  if (high) throw Error(Exit::usage, fmt::format("{} {} is too large", what, text), fmt::format("at most {}", max));
  return v;
}

double parse_real(std::string_view text, double min, double max, std::string_view what) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot), frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!whole.empty() && whole[0] == '-' && min < 0) whole.remove_prefix(1);
  auto digits = [](std::string_view s) { return s.find_first_not_of("0123456789") == std::string_view::npos; };
  bool shape = !whole.empty() && digits(whole) && digits(frac) && (dot == std::string_view::npos || !frac.empty());
  double v = 0;
  if (shape) shape = std::from_chars(text.data(), text.data() + text.size(), v).ec == std::errc() && std::isfinite(v);
  if (!shape)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text),
                fmt::format("expected a decimal number from {} to {}", min, max));
  if (v < min) throw Error(Exit::usage, fmt::format("{} {} is too small", what, text), fmt::format("at least {}", min));
  if (v > max) throw Error(Exit::usage, fmt::format("{} {} is too large", what, text), fmt::format("at most {}", max));
  return v;
}

std::string format_size(uint64_t bytes) {
  static constexpr const char* k_units[] = {"", "K", "M", "G", "T", "P", "E"};
  constexpr int k_last = 6;
  if (bytes < 1024) return fmt::format("{}", bytes);
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < k_last) {
    v /= 1024;
    ++u;
  }
  // Round as it will print (one decimal below 10, none above), so 10239 shows "10K", not "10.0K",
  // and a value that rounds up to 1024 moves to the next unit: "1M", not "1024K".
  double shown = v < 10 ? std::round(v * 10) / 10 : std::round(v);
  if (shown >= 1024 && u < k_last) {
    shown /= 1024;
    ++u;
  }
  if (shown == std::floor(shown)) return fmt::format("{:.0f}{}", shown, k_units[u]);
  return fmt::format("{:.1f}{}", shown, k_units[u]);
}

}  // namespace cube::units
