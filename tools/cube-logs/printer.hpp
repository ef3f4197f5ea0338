// cube::logs printing — stored records in, what the reader prints out (through common/output).
//
// - Cursor walks the records of a Chain range in order, as pieces of at most one buffer (so a
//   plain line of any length costs bounded memory).
// - Decoder turns pieces into output: `raw` copies the stored bytes exactly; otherwise CRI records
//   lose their prefix, P records are joined to their F record, each line ends in \n, with
//   `timestamps` prefixed by the line's RFC 3339 time; a non-CRI line is printed as it is.
// - print_range prints one range; print_merged interleaves two streams by the time of each
//   logical line (stdout first on a tie), skipping the first `skip` lines and stopping after
//   `take` lines; with a TimeFilter, only the lines it keeps are counted and printed.
#pragma once

#include "chain.hpp"
#include "newlines.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace cube::logs {

struct Piece {
  std::string_view data;  // without the newline
  bool first = false;     // starts a stored record
  bool last = false;      // ends it
  bool newline = false;   // the record ended in \n, which then is in memory at data.end()
};

class Cursor {
 public:
  Cursor(const Chain& chain, uint64_t begin, uint64_t end);
  bool next(Piece& piece);
  // All the whole records at the cursor, as one view that ends in a newline (refilling the buffer
  // when it holds none), for a caller that prints most records without a Piece each. Empty when
  // the next record does not fit the buffer or ends the range without a newline: next() gives it.
  std::string_view records();

 private:
  bool refill();

  const Chain& m_chain;
  uint64_t m_read_at, m_end;
  Buffer m_buf;
  size_t m_pos = 0, m_len = 0;
  NewlinesForward m_newlines{nullptr, 0, 0};
  bool m_first = true;
};

struct Style {
  bool raw = false;
  bool timestamps = false;
};

class Decoder {
 public:
  explicit Decoder(Style style) : m_style(style) {}
  void feed(const Piece& piece);
  // Whole records, each ending in a newline (what Cursor::records() gives).
  void feed_records(std::string_view records);
  // Ends a line left open by P records with no F (a writer stopped mid-line).
  void finish();
  // After the last piece of a record: true when that record ended a logical line.
  bool line_done() const { return !m_open; }

 private:
  Style m_style;
  bool m_cri = false;      // the current record is a CRI record
  bool m_partial = false;  // … and a P one
  bool m_open = false;     // a logical line has started and not ended
};

void print_range(const Chain& chain, uint64_t begin, uint64_t end, Style style);

struct Range {
  const Chain* chain;
  uint64_t begin, end;
};
// Lines by the time of their first record, tested one by one: the reader's filter for records
// not in time order, where a binary search cannot find the bounds. A line without a time counts
// as older than any (as time_bound has it).
struct TimeFilter {
  std::optional<int64_t> since, until;
  bool keeps(int64_t t) const { return (!since || t >= *since) && (!until || t <= *until); }
};
void print_merged(Range out, Range err, Style style, uint64_t skip, uint64_t take, const TimeFilter& filter = {});
// Logical lines in a range (what print_merged counts) that `filter` keeps.
uint64_t count_lines(Range range, const TimeFilter& filter = {});

}  // namespace cube::logs
