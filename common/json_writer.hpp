// cube::json::Writer — a small streaming JSON writer into a string buffer.
//
// Why not nlohmann for output: the matrix and list commands emit tens of thousands of objects, and
// building a DOM first doubles the work. nlohmann stays the parser for input. The writer tracks
// commas itself; callers only pair begin/end calls. `indent` > 0 pretty-prints (manifest files).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cube::json {

// Appends `text` to `out` as a quoted JSON string; bytes that are not valid UTF-8 become U+FFFD.
void append_quoted(std::string& out, std::string_view text);

class Writer {
 public:
  explicit Writer(int indent = 0) : m_indent(indent) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);

  void value(std::string_view v);
  void value(const char* v) { value(std::string_view(v)); }
  void value(const std::string& v) { value(std::string_view(v)); }
  void value(int64_t v);
  void value(int v) { value(static_cast<int64_t>(v)); }
  void value(uint64_t v);
  void value(double v);
  void value(bool v);
  void null();
  // Inserts already-serialised JSON as one value: for a string written many times, quote it once
  // with append_quoted and pass the result here.
  void raw(std::string_view json);

  template <typename T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

  const std::string& str() const { return m_out; }
  // Hands out what is written so far and empties the buffer, keeping the nesting: lets a large
  // document stream out in pieces instead of being held whole.
  std::string drain() { return std::exchange(m_out, {}); }
  std::string take() { return std::move(m_out); }
  void clear();

 private:
  void before_value();
  void newline();

  std::string m_out;
  int m_indent;
  // Per open container: has it got an element yet (char, not bool: vector<bool> is slow here).
  std::vector<char> m_has_items;
  bool m_after_key = false;
};

}  // namespace cube::json
