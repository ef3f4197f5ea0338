#include "printer.hpp"

#include "cri.hpp"
#include "output.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

namespace cube::logs {
namespace {

constexpr size_t k_buffer = 1 << 20;

// Never more than the range needs, and at least a page.
size_t buffer_for(uint64_t begin, uint64_t end) {
  return static_cast<size_t>(std::clamp<uint64_t>(end - begin, 4096, read_block(end - begin)));
}

// One stream of print_merged: its cursor, decoder and the piece read ahead.
struct Source {
  Source(Range r, Style style) : cursor(*r.chain, r.begin, r.end), decoder(style) { more = cursor.next(ahead); }
  // The time of the next logical line; lines without one sort first.
  int64_t next_time() const {
    int64_t t = std::numeric_limits<int64_t>::min();
    cri::parse_time(ahead.data.substr(0, 64), t);
    return t;
  }
  // Moves one logical line through `fn` (the decoder, or nothing when skipping).
  template <typename Fn>
  void line(Fn fn) {
    while (more) {
      if (ahead.first) head.assign(ahead.data.substr(0, 64));
      fn(ahead);
      bool ended = ahead.last && !cri::is_partial(head);
      more = cursor.next(ahead);  // invalidates ahead.data: fn has used it
      if (ended) return;
    }
  }
  // Passes over the lines `filter` drops.
  void skip_dropped(const TimeFilter& filter) {
    if (!filter.since && !filter.until) return;
    while (more && !filter.keeps(next_time())) line([](const Piece&) {});
  }
  Cursor cursor;
  Decoder decoder;
  Piece ahead;
  bool more = false;
  std::string head;
};

}  // namespace

Cursor::Cursor(const Chain& chain, uint64_t begin, uint64_t end)
    : m_chain(chain), m_read_at(begin), m_end(end), m_buf(buffer_for(begin, end)) {}

bool Cursor::refill() {
  if (m_read_at >= m_end) return false;
  if (m_pos > 0) {
    std::memmove(m_buf.data(), m_buf.data() + m_pos, m_len - m_pos);
    m_len -= m_pos;
    m_pos = 0;
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(m_buf.size() - m_len, m_end - m_read_at));
  size_t got = m_chain.read(m_read_at, m_buf.data() + m_len, want);
  if (got == 0) {
    m_read_at = m_end;  // the files shrank: stop here
    return false;
  }
  m_read_at += got;
  m_len += got;
  return true;
}

bool Cursor::next(Piece& piece) {
  for (;;) {
    const char* from = m_buf.data() + m_pos;
    if (size_t nl = m_newlines.next(); nl < m_len) {
      piece = Piece{std::string_view(from, nl - m_pos), m_first, true, true};
      m_pos = nl + 1;
      m_first = true;
      return true;
    }
    bool full = m_pos == 0 && m_len == m_buf.size();
    if (!full && refill()) {
      m_newlines = NewlinesForward(m_buf.data(), m_pos, m_len);
      continue;
    }
    if (m_pos == m_len) return false;
    // A record longer than the buffer, or the end of the range without a newline.
    bool at_end = m_read_at >= m_end;
    piece = Piece{std::string_view(from, m_len - m_pos), m_first, at_end, false};
    m_first = at_end;
    m_pos = m_len;
    return true;
  }
}

std::string_view Cursor::records() {
  for (;;) {
    if (!m_first) return {};  // inside a record that next() is giving in pieces
    size_t start = m_pos;
    if (const void* nl = start < m_len ? ::memrchr(m_buf.data() + start, '\n', m_len - start) : nullptr) {
      m_pos = static_cast<size_t>(static_cast<const char*>(nl) - m_buf.data()) + 1;
      m_newlines = NewlinesForward(m_buf.data(), m_pos, m_len);
      return std::string_view(m_buf.data() + start, m_pos - start);
    }
    bool full = m_pos == 0 && m_len == m_buf.size();
    if (full || !refill()) return {};
    m_newlines = NewlinesForward(m_buf.data(), m_pos, m_len);
  }
}

void Decoder::feed_records(std::string_view records) {
  // The common record, this writer's F record between whole lines, is printed here: its text and
  // the newline after it are one write. Every other record takes feed()'s general path.
  bool plain = !m_style.raw && !m_style.timestamps;
  NewlinesForward newlines(records.data(), 0, records.size());
  for (size_t pos = 0, nl; (nl = newlines.next()) < records.size(); pos = nl + 1) {
    std::string_view line = records.substr(pos, nl - pos);
    cri::Fields rec;
    if (plain && !m_open && cri::split(line, rec) && !rec.partial) {
      output::write(std::string_view(rec.text.data(), rec.text.size() + 1));
      continue;
    }
    feed(Piece{line, true, true, true});
  }
}

void Decoder::feed(const Piece& piece) {
  std::string_view data = piece.data;
  // One write for the text and its newline, which follows it in memory (see Piece).
  auto with_newline = [](std::string_view text) { output::write(std::string_view(text.data(), text.size() + 1)); };
  if (m_style.raw) {
    if (piece.newline)
      with_newline(data);
    else
      output::write(data);
    return;
  }
  if (piece.first) {
    cri::Fields rec;
    m_cri = cri::split(data, rec);
    if (m_cri) {
      if (!m_open && m_style.timestamps) output::write(data.substr(0, rec.stamp.size() + 1));
      m_partial = rec.partial;
      data = rec.text;
    } else if (m_open) {
      output::write("\n");  // a P run cut off by a foreign line
    }
    m_open = true;
  }
  if (!piece.last || (m_cri && m_partial)) return output::write(data);
  if (piece.newline)
    with_newline(data);
  else
    output::write(std::string(data) + "\n");
  m_open = false;
}

void Decoder::finish() {
  if (m_open && !m_style.raw) output::write("\n");
  m_open = false;
}

void print_range(const Chain& chain, uint64_t begin, uint64_t end, Style style) {
  if (style.raw) {  // the stored bytes as they are: no need to find records
    Buffer buf(buffer_for(begin, end));
    while (begin < end) {
      size_t got = chain.read(begin, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), end - begin)));
      if (got == 0) break;
      output::write(std::string_view(buf.data(), got));
      begin += got;
    }
    return;
  }
  Cursor cursor(chain, begin, end);
  Decoder decoder(style);
  for (Piece piece;;) {
    if (std::string_view records = cursor.records(); !records.empty())
      decoder.feed_records(records);
    else if (cursor.next(piece))
      decoder.feed(piece);
    else
      break;
  }
  decoder.finish();
}

uint64_t count_lines(Range r, const TimeFilter& filter) {
  if (filter.since || filter.until) {
    Source s(r, Style{});
    uint64_t lines = 0;
    for (s.skip_dropped(filter); s.more; s.skip_dropped(filter), ++lines) s.line([](const Piece&) {});
    return lines;
  }
  Cursor cursor(*r.chain, r.begin, r.end);
  Piece piece;
  uint64_t lines = 0;
  bool partial = false;
  while (cursor.next(piece)) {
    if (piece.first) partial = cri::is_partial(piece.data.substr(0, 64));
    if (piece.last && !partial) ++lines;
  }
  return lines + (partial ? 1 : 0);
}

void print_merged(Range out, Range err, Style style, uint64_t skip, uint64_t take, const TimeFilter& filter) {
  Source a(out, style), b(err, style);
  a.skip_dropped(filter);
  b.skip_dropped(filter);
  for (uint64_t done = 0; (a.more || b.more) && done < skip + take; ++done) {
    Source& s = !b.more || (a.more && a.next_time() <= b.next_time()) ? a : b;
    if (done < skip)
      s.line([](const Piece&) {});
    else
      s.line([&](const Piece& p) { s.decoder.feed(p); });
    s.decoder.finish();
    s.skip_dropped(filter);
  }
}

}  // namespace cube::logs
