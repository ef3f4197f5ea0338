#include "output.hpp"

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

void json_row(json::Writer& w, const Table& t, const std::vector<Cell>& row) {
  w.begin_object();
  for (size_t i = 0; i < t.columns().size(); ++i) {
    w.key(t.columns()[i].key);
    json_value(w, row[i].value);
  }
  w.end_object();
}

// TSV cells escape the bytes that would break a line or a field, as `\t`, `\n`, `\r`, `\\`.
std::string tsv_text(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  std::string raw = cell_text(v), out;
  out.reserve(raw.size());
  for (char c : raw) {
    switch (c) {
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out;
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
  std::string line;
  for (size_t i = 0; i < t.columns().size(); ++i) line += (i ? "\t" : "") + t.columns()[i].key;
  write(line + "\n");
  for (size_t r = 0; r < t.rows().size() && r < max_rows; ++r) {
    line.clear();
    for (size_t i = 0; i < t.columns().size(); ++i) line += (i ? "\t" : "") + tsv_text(t.rows()[r][i].value);
    write(line + "\n");
  }
}

}  // namespace

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
  if (row.size() != m_columns.size())
    throw Error(Exit::failed, fmt::format("internal: row has {} cells for {} columns", row.size(), m_columns.size()));
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
    case Format::json: {
      json::Writer w;
      w.begin_array();
      for (const auto& row : t.rows()) json_row(w, t, row);
      w.end_array();
      write(w.str() + "\n");
      return;
    }
    case Format::jsonl: {
      json::Writer w;
      for (const auto& row : t.rows()) {
        w.clear();
        json_row(w, t, row);
        write(w.str() + "\n");
      }
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
    json_row(w, t, row);
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
