#include "output.hpp"
#include "output_stream.hpp"

#include "chunk.hpp"
#include "error.hpp"
#include "escape.hpp"
#include "json_writer.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <cerrno>
#include <cstdlib>

namespace cube::output {
namespace {

constexpr size_t k_capacity = 64 * 1024;
constexpr size_t k_first_flush = 8 * 1024;
uint64_t g_written = 0;

std::string reserved() {
  std::string b;
  b.reserve(k_capacity);
  return b;
}

void write_all(std::string_view rest) {
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EPIPE) throw StdoutClosed{};
      throw sys_error(errno, "cannot write to standard output");
    }
    rest.remove_prefix(static_cast<size_t>(n));
    g_written += static_cast<uint64_t>(n);
  }
  detail::g_flush_at = chunk_size(g_written, k_first_flush, k_capacity);
}

void check_width(const std::vector<Cell>& row, const std::vector<Column>& columns) {
  if (row.size() != columns.size())
    throw Error(Exit::failed, fmt::format("internal: row has {} cells for {} columns", row.size(), columns.size()));
}

void json_value(json::Writer& w, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          w.null();
        else
          w.value(x);
      },
      v);
}

void json_row(json::Writer& w, const std::vector<Column>& columns, const std::vector<Cell>& row) {
  w.begin_object();
  for (size_t i = 0; i < columns.size(); ++i) {
    w.key(columns[i].key);
    json_value(w, row[i].value);
  }
  w.end_object();
}

// Appends the cell as TSV shows it: null empty, bools as true/false. Numbers and text are written
// straight into the line, which a listing of a million cells notices.
void append_tsv(std::string& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return;
        else if constexpr (std::is_same_v<T, bool>)
          out += x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>)
          append_tsv_escaped(out, x);
        else
          fmt::format_to(std::back_inserter(out), "{}", x);
      },
      v);
}

// One TSV line, with its newline.
void tsv_line(std::string& out, const std::vector<Cell>& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += '\t';
    append_tsv(out, row[i].value);
  }
  out += '\n';
}

// Printable width of UTF-8 text: counts code points, which is right for the text we print.
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Control bytes in table cells would let data repaint the operator's terminal; show them escaped.
std::string table_text(const Value& v) { return escape_controls(cell_text(v)); }

void print_table(const Table& t) {
  const auto& cols = t.columns();
  std::vector<std::vector<std::string>> text;
  std::vector<size_t> width(cols.size());
  for (size_t i = 0; i < cols.size(); ++i) width[i] = display_width(cols[i].header);
  text.reserve(t.rows().size());
  for (const auto& row : t.rows()) {
    auto& line = text.emplace_back();
    for (size_t i = 0; i < cols.size(); ++i) {
      line.push_back(table_text(row[i].value));
      width[i] = std::max(width[i], display_width(line.back()));
    }
  }
  auto emit = [&](size_t i, std::string_view s, Style style) {
    size_t pad = width[i] - display_width(s);
    bool last = i + 1 == cols.size();
    std::string cell = paint(s, style);
    if (cols[i].align == Align::right)
      write(std::string(pad, ' ') + cell);
    else
      write(last ? cell : cell + std::string(pad, ' '));
    if (!last) write("  ");
  };
  for (size_t i = 0; i < cols.size(); ++i) emit(i, cols[i].header, Style::dim);
  write("\n");
  for (size_t r = 0; r < text.size(); ++r) {
    for (size_t i = 0; i < cols.size(); ++i) emit(i, text[r][i], t.rows()[r][i].style);
    write("\n");
  }
}

void print_tsv(const Table& t, size_t max_rows) {
  write(tsv_header(t.columns()));
  std::string line;
  for (size_t r = 0; r < t.rows().size() && r < max_rows; ++r) {
    line.clear();
    tsv_line(line, t.rows()[r]);
    write(line);
  }
}

}  // namespace

// TSV cells escape the bytes that would break a line or a field, as `\t`, `\n`, `\r`, `\\`.
void append_tsv_escaped(std::string& out, std::string_view raw) {
  for (char c : raw) {
    switch (c) {
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
}

std::string tsv_header(const std::vector<Column>& columns) {
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i) line += (i ? "\t" : "") + columns[i].key;
  return line + "\n";
}

Format parse_format(std::string_view name) {
  if (name == "table") return Format::table;
  if (name == "json") return Format::json;
  if (name == "jsonl") return Format::jsonl;
  if (name == "tsv") return Format::tsv;
  throw Error(Exit::usage, fmt::format("unknown output format '{}'", name), "expected table, json, jsonl or tsv");
}

std::string_view format_name(Format f) {
  switch (f) {
    case Format::table: return "table";
    case Format::json: return "json";
    case Format::jsonl: return "jsonl";
    case Format::tsv: return "tsv";
  }
  return "table";
}

void Table::add(std::vector<Cell> row) {
  check_width(row, m_columns);
  m_rows.push_back(std::move(row));
}

std::string cell_text(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return "-";
        else if constexpr (std::is_same_v<T, bool>)
          return x ? "yes" : "no";
        else if constexpr (std::is_same_v<T, std::string>)
          return x;
        else
          return fmt::format("{}", x);
      },
      v);
}

void print(const Table& t, Format format) {
  switch (format) {
    case Format::table: print_table(t); return;
    case Format::tsv: print_tsv(t, t.rows().size()); return;
    case Format::json:
    case Format::jsonl: {
      RowStream stream(t.columns(), format);
      for (const auto& row : t.rows()) stream.add(row);
      stream.finish();
      return;
    }
  }
}

void print_record(const Table& t, Format format) {
  if (t.rows().empty()) return;
  const auto& row = t.rows().front();
  if (format == Format::tsv) return print_tsv(t, 1);
  if (format == Format::json || format == Format::jsonl) {
    json::Writer w;
    json_row(w, t.columns(), row);
    write(w.str() + "\n");
    return;
  }
  size_t width = 0;
  for (const auto& c : t.columns()) width = std::max(width, display_width(c.header));
  for (size_t i = 0; i < t.columns().size(); ++i) {
    const std::string& h = t.columns()[i].header;
    write(paint(h + ":", Style::dim) + std::string(width - display_width(h) + 1, ' ') +
          paint(table_text(row[i].value), row[i].style) + "\n");
  }
}

RowStream::RowStream(std::vector<Column> columns, Format format) : m_table(std::move(columns)), m_format(format) {
  if (m_format == Format::tsv) write(tsv_header(m_table.columns()));
  if (m_format == Format::json) write("[");
}

void RowStream::add(const std::vector<Cell>& row) {
  if (m_format == Format::table) return m_table.add(row);
  check_width(row, m_table.columns());
  if (m_format == Format::tsv) {
    m_line.clear();
    tsv_line(m_line, row);
    return write(m_line);
  }
  m_json.clear();
  if (m_format == Format::json && !m_first) write(",");
  m_first = false;
  json_row(m_json, m_table.columns(), row);
  write(m_json.str());
  if (m_format == Format::jsonl) write("\n");
}

void RowStream::finish() {
  if (m_format == Format::json) write("]\n");
  if (m_format == Format::table) print_table(m_table);
}

bool stdout_is_tty() {
  static const bool tty = isatty(STDOUT_FILENO) == 1;
  return tty;
}

bool colour_enabled() {
  static const bool on = stdout_is_tty() && std::getenv("NO_COLOR") == nullptr;
  return on;
}

std::string paint(std::string_view text, Style style) {
  if (!colour_enabled() || style == Style::plain) return std::string(text);
  const char* code = style == Style::good ? "32" : style == Style::warn ? "33" : style == Style::bad ? "1;31" : "2";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

namespace detail {

// Reserved once and never reallocated (pages are only touched as text arrives), and the part of it
// used grows with what has been written (chunk_size): a short command (`cube-logs --tail 1000`)
// spends more on page faults than on its output, so it touches only the pages it needs.
std::string g_buffer = reserved();
size_t g_flush_at = k_first_flush;

// Text that would fill the buffer past g_flush_at flushes it first, and text as large as that goes
// out directly instead of being copied.
void write_through(std::string_view text) {
  flush();
  if (text.size() >= g_flush_at) return write_all(text);
  g_buffer.append(text);
}

}  // namespace detail

void flush() {
  std::string& buf = detail::g_buffer;
  try {
    write_all(buf);
  } catch (...) {
    buf.clear();  // what could not be written is dropped, not written again by the next flush
    throw;
  }
  buf.clear();
}

}  // namespace cube::output
