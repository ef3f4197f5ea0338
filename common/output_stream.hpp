// cube::output::RowStream — print() for listings too long to hold as a Table (hundreds of thousands
// of rows). Implemented in output.cpp, beside the renderers it shares with print().
//
// Contract: JSON, JSON Lines and TSV go out row by row as add() is called, byte for byte what
// print() writes for a Table of the same rows; the table form needs every row for its column
// widths, so it keeps them and prints them at finish(). A caller may refill one row vector for
// every add(): nothing of it is kept in the streamed forms.
#pragma once

#include "json_writer.hpp"
#include "output.hpp"

#include <string>
#include <vector>

namespace cube::output {

class RowStream {
 public:
  RowStream(std::vector<Column> columns, Format format);
  void add(const std::vector<Cell>& row);  // one cell per column, in column order
  void finish();                           // closes the JSON array, prints the table form

 private:
  Table m_table;  // the columns, and the rows of the table form
  Format m_format;
  bool m_first = true;
  std::string m_line;
  json::Writer m_json;
};

}  // namespace cube::output
