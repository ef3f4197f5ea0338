// cube::output — results on stdout, rendered from one set of typed rows.
//
// Contract: a command builds a Table (columns with a stable key and a human header, then rows of
// typed cells) and calls print(). The same cells become an aligned table (the default; colour only
// on a TTY and without NO_COLOR), a JSON array, JSON Lines, or TSV with a header, so the forms never
// disagree. Commands whose JSON is nested write it with json::Writer and hand it to write().
//
// All stdout goes through this module's buffer. A failed write fails the tool (Error, exit 1),
// except EPIPE, which throws StdoutClosed: the CLI layer ends quietly, so `cube-x list | head -1`
// is clean.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cube::output {

enum class Format { table, json, jsonl, tsv };
Format parse_format(std::string_view name);  // throws Error(usage) on an unknown name
std::string_view format_name(Format f);

using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;

// How a table cell is shown on a TTY; the other formats ignore it.
enum class Style { plain, good, warn, bad, dim };

struct Cell {
  Value value;
  Style style = Style::plain;
  Cell() = default;
  template <typename T>
  Cell(T v, Style s = Style::plain) : value(to_value(std::move(v))), style(s) {}

 private:
  static Value to_value(std::monostate v) { return v; }
  static Value to_value(bool v) { return v; }
  static Value to_value(double v) { return v; }
  static Value to_value(std::string v) { return v; }
  static Value to_value(std::string_view v) { return std::string(v); }
  static Value to_value(const char* v) { return std::string(v); }
  template <typename I>
  static Value to_value(I v) requires std::is_integral_v<I> {
    return static_cast<int64_t>(v);
  }
};

enum class Align { left, right };

struct Column {
  std::string key;     // JSON key and TSV header: stable, snake_case
  std::string header;  // table header: for people, may change
  Align align = Align::left;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}
  void add(std::vector<Cell> row);  // one cell per column, in column order
  const std::vector<Column>& columns() const { return m_columns; }
  const std::vector<std::vector<Cell>>& rows() const { return m_rows; }
  bool empty() const { return m_rows.empty(); }

 private:
  std::vector<Column> m_columns;
  std::vector<std::vector<Cell>> m_rows;
};

// Renders every row. A table with no rows prints its header only in table form, `[]` in JSON.
void print(const Table& table, Format format);
// Renders one record (the first row) as `Key: value` lines in table form, one object in JSON/JSONL,
// and a header plus one line in TSV. For `show` verbs.
void print_record(const Table& table, Format format);

// Text as a table cell would show it ("-" for null, "yes"/"no" for bools).
std::string cell_text(const Value& v);

// TSV pieces, for a listing that assembles its own lines from pre-escaped parts (cube-versions
// compat): the header line, and a field escaped as every TSV cell is (`\t`, `\n`, `\r`, `\\`).
std::string tsv_header(const std::vector<Column>& columns);
void append_tsv_escaped(std::string& out, std::string_view raw);

bool stdout_is_tty();
bool colour_enabled();
// Wraps text in the ANSI colour of `style` when colour is enabled.
std::string paint(std::string_view text, Style style);

namespace detail {
// The buffer behind write() and how full it may get before it is written (output.cpp says how).
extern std::string g_buffer;
extern size_t g_flush_at;
// Flushes the buffer, then buffers `text` or, when it is large, writes it directly.
void write_through(std::string_view text);
}  // namespace detail

// Buffered stdout. flush() is called by the CLI layer at exit. Inline: a reader calls it per line.
inline void write(std::string_view text) {
  if (detail::g_buffer.size() + text.size() <= detail::g_flush_at)
    detail::g_buffer.append(text);
  else
    detail::write_through(text);
}
void flush();

struct StdoutClosed {};

}  // namespace cube::output
