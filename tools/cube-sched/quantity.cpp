#include "quantity.hpp"

#include "error.hpp"

#include <array>
#include <utility>

namespace cube::sched {
namespace {

using i128 = __int128;

// |value| limit in nano units: comfortably inside __int128, far beyond any real quantity.
constexpr i128 k_limit = static_cast<i128>(1'000'000'000'000'000'000) * 100'000'000'000 * 1'000'000'000;  // 1e38

constexpr i128 pow10(int n) {
  i128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// The factor a suffix multiplies by, in nano units, or 0 for an unknown suffix.
i128 suffix_factor(std::string_view s) {
  static const std::array<std::pair<std::string_view, int>, 6> binary = {
      {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}}};
  static const std::array<std::pair<std::string_view, int>, 10> decimal = {
      {{"n", 0}, {"u", 3}, {"m", 6}, {"", 9}, {"k", 12}, {"M", 15}, {"G", 18}, {"T", 21}, {"P", 24}, {"E", 27}}};
  for (auto [name, shift] : binary)
    if (s == name) return (static_cast<i128>(1) << shift) * pow10(9);
  for (auto [name, exp] : decimal)
    if (s == name) return pow10(exp);
  return 0;
}

// Parses `e<int>`/`E<int>`; returns false unless the whole suffix is one.
bool parse_exponent(std::string_view s, int& exp) {
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'E')) return false;
  size_t i = 1;
  bool neg = false;
  if (s[i] == '+' || s[i] == '-') neg = s[i++] == '-';
  if (i == s.size() || s.size() - i > 3) return false;
  int v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  exp = neg ? -v : v;
  return true;
}

}  // namespace

std::optional<Quantity> parse_quantity(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  i128 mantissa = 0;
  int fraction_digits = 0, digits = 0;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    if (mantissa > k_limit / 10) return std::nullopt;
    mantissa = mantissa * 10 + (c - '0');
    ++digits;
    if (in_fraction) ++fraction_digits;
  }
  if (digits == 0) return std::nullopt;
  std::string_view suffix = text.substr(i);
  i128 factor = suffix_factor(suffix);
  int exp = 0;
  if (factor == 0) {
    if (!parse_exponent(suffix, exp) || exp > 29 || exp < -38) return std::nullopt;
    exp += 9;  // to nano units
    factor = 1;
  }
  // value = mantissa × factor × 10^exp / 10^fraction_digits, rounded up to a whole nano unit.
  int scale = exp - fraction_digits;
  i128 divisor = 1;
  if (scale >= 0) {
    i128 m = pow10(scale);
    if (factor > k_limit / m) return std::nullopt;
    factor *= m;
  } else {
    if (-scale > 38) return std::nullopt;
    divisor = pow10(-scale);
  }
  if (mantissa != 0 && factor > k_limit / mantissa) return std::nullopt;
  i128 product = mantissa * factor;
  i128 value = product / divisor + (product % divisor != 0 ? 1 : 0);
  return Quantity{negative ? -value : value};
}

int64_t parse_millicores(std::string_view text, std::string_view what) {
  auto q = parse_quantity(text);
  constexpr i128 k_milli = 1'000'000;  // nano units per millicore
  if (!q || q->nano <= 0 || q->nano % k_milli != 0 || q->nano / k_milli > INT64_MAX / 2)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text),
                "expected a positive CPU quantity in whole millicores: 2, 1.5, 2500m");
  return static_cast<int64_t>(q->nano / k_milli);
}

}  // namespace cube::sched
