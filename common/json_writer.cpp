#include "json_writer.hpp"

#include <fmt/format.h>

#include <cmath>

namespace cube::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (len == 2 && c < 0xC2) return 0;                          // overlong
  if (len == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
  if (len == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogate
  if (len == 4 && (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90))) return 0;
  return len;
}

// Appends the escape for the byte (or UTF-8 sequence) at text[i]; returns how many bytes it took.
size_t append_escaped(std::string& out, std::string_view text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  switch (c) {
    case '"': out += "\\\""; return 1;
    case '\\': out += "\\\\"; return 1;
    case '\n': out += "\\n"; return 1;
    case '\t': out += "\\t"; return 1;
    case '\r': out += "\\r"; return 1;
    default: break;
  }
  if (c < 0x20) {
    out += fmt::format("\\u{:04x}", c);
    return 1;
  }
  size_t len = utf8_sequence(text, i);
  if (len == 0) {
    out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not valid UTF-8
    return 1;
  }
  out.append(text.substr(i, len));
  return len;
}

// Bytes that go out as they are: printable ASCII except the quote and the backslash.
constexpr bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

}  // namespace

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    // Copy the longest run of plain bytes in one append; almost every string is one such run.
    size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run]))) ++run;
    out.append(text.data() + i, run - i);
    if (run == text.size()) break;
    i = run + append_escaped(out, text, run);
  }
  out += '"';
}

void Writer::newline() {
  if (m_indent <= 0) return;
  m_out += '\n';
  m_out.append(m_has_items.size() * static_cast<size_t>(m_indent), ' ');
}

void Writer::before_value() {
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (m_has_items.empty()) return;
  if (m_has_items.back()) m_out += ',';
  m_has_items.back() = true;
  newline();
}

void Writer::begin_object() {
  before_value();
  m_out += '{';
  m_has_items.push_back(false);
}

void Writer::end_object() {
  bool had = m_has_items.back();
  m_has_items.pop_back();
  if (had) newline();
  m_out += '}';
}

void Writer::begin_array() {
  before_value();
  m_out += '[';
  m_has_items.push_back(false);
}

void Writer::end_array() {
  bool had = m_has_items.back();
  m_has_items.pop_back();
  if (had) newline();
  m_out += ']';
}

void Writer::key(std::string_view k) {
  before_value();
  append_quoted(m_out, k);
  m_out += m_indent > 0 ? ": " : ":";
  m_after_key = true;
}

void Writer::value(std::string_view v) {
  before_value();
  append_quoted(m_out, v);
}

void Writer::value(int64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(m_out), "{}", v);
}

void Writer::value(uint64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(m_out), "{}", v);
}

void Writer::value(double v) {
  before_value();
  if (!std::isfinite(v)) {
    m_out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(m_out), "{}", v);
}

void Writer::value(bool v) {
  before_value();
  m_out += v ? "true" : "false";
}

void Writer::null() {
  before_value();
  m_out += "null";
}

void Writer::raw(std::string_view json) {
  before_value();
  m_out.append(json);
}

void Writer::clear() {
  m_out.clear();
  m_has_items.clear();
  m_after_key = false;
}

}  // namespace cube::json
