#include "escape.hpp"

#include <fmt/format.h>

namespace cube {
namespace {

// The length of the valid UTF-8 sequence at text[i] (a C1 control only with `c1`), or 0.
size_t utf8_length(std::string_view text, size_t i, bool c1 = false) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  if (c == 0xc2 && byte(i + 1) < 0xa0 && !c1) return 0;                                   // U+0080–U+009F: C1
  if (c == 0xe0 && byte(i + 1) < 0xa0) return 0;                                          // overlong
  if (c == 0xed && byte(i + 1) >= 0xa0) return 0;                                         // surrogates
  if ((c == 0xf0 && byte(i + 1) < 0x90) || (c == 0xf4 && byte(i + 1) >= 0x90)) return 0;  // overlong, > U+10FFFF
  return n;
}

}  // namespace

size_t first_invalid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_length(text, i, true);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (size_t n = c >= 0x80 ? utf8_length(text, i) : 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

}  // namespace cube
