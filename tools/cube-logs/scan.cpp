#include "scan.hpp"

#include "cri.hpp"
#include "newlines.hpp"
#include "timeutil.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cube::logs {
namespace {

constexpr size_t k_block = 1 << 20;
// Bytes of a record's start that hold its timestamp, stream and tag.
constexpr size_t k_head = 64;
// Below this many bytes a binary search reads the rest in order.
constexpr uint64_t k_linear = 64 * 1024;

std::string read_head(const Chain& chain, uint64_t at, uint64_t end) {
  std::string head(static_cast<size_t>(std::min<uint64_t>(k_head, end - at)), '\0');
  head.resize(chain.read(at, head.data(), head.size()));
  return head;
}

bool ends_line(std::string_view head, Lines lines) { return lines == Lines::stored || !cri::is_partial(head); }

// Calls fn(start, next, head) for each record in [begin, end) in order, with `next` the start of
// the one after it (or end) and `head` its first bytes; stops when fn returns false. Returns where
// it stopped.
template <typename Fn>
uint64_t each_record(const Chain& chain, uint64_t begin, uint64_t end, Fn fn) {
  Buffer buf(k_block);
  uint64_t start = begin;
  uint64_t at = begin;  // global offset of buf[0]
  std::string scratch;
  auto head_of = [&](uint64_t s, size_t len) {
    if (s >= at && s - at + k_head <= len) return std::string_view(buf.data() + (s - at), k_head);
    scratch = read_head(chain, s, end);
    return std::string_view(scratch);
  };
  while (start < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(read_block(at - begin), end - at));  // grows as it goes
    size_t len = chain.read(at, buf.data(), want);
    if (len == 0) return fn(start, end, head_of(start, 0)) ? end : start;
    NewlinesForward newlines(buf.data(), 0, len);
    for (size_t nl; (nl = newlines.next()) < len;) {
      uint64_t next = at + nl + 1;
      if (!fn(start, next, head_of(start, len))) return start;
      start = next;
    }
    if (at + len >= end) {
      if (start < end && !fn(start, end, head_of(start, len))) return start;
      return end;
    }
    at += len;
  }
  return start;
}

// The first record start at or after `pos` and before `end`, or `end`.
uint64_t next_start(const Chain& chain, uint64_t begin, uint64_t pos, uint64_t end) {
  if (pos <= begin) return begin;
  char buf[4096];
  for (uint64_t at = pos - 1; at < end;) {
    size_t len = chain.read(at, buf, static_cast<size_t>(std::min<uint64_t>(sizeof buf, end - at)));
    if (len == 0) break;
    if (const void* nl = std::memchr(buf, '\n', len))
      return std::min(end, at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1);
    at += len;
  }
  return end;
}

}  // namespace

uint64_t tail_start(const Chain& chain, uint64_t begin, uint64_t end, uint64_t n, Lines lines) {
  if (n == 0 || begin >= end) return end;
  Buffer buf(k_block + k_head);
  char last = 0;
  chain.read(end - 1, &last, 1);
  uint64_t hi = last == '\n' ? end - 1 : end;  // the final newline ends the last line, it starts none
  uint64_t following = end;                    // start of the record after the one being looked at
  uint64_t counted = 0;
  bool first = true;  // the last record ends a line even when it is a P (a writer mid-line)
  auto visit = [&](std::string_view head, uint64_t start) {
    if (first || ends_line(head, lines)) {
      if (counted == n) return true;
      ++counted;
    }
    first = false;
    following = start;
    return false;
  };
  // Blocks grow with what has been read (read_block): a short tail touches little fresh memory, a
  // long one makes few reads.
  for (size_t block = read_block(0); hi > begin; block = read_block(end - hi)) {
    uint64_t lo = hi - std::min<uint64_t>(block, hi - begin);
    size_t len = static_cast<size_t>(hi - lo);
    size_t got = chain.read(lo, buf.data(), len + static_cast<size_t>(std::min<uint64_t>(k_head, end - hi)));
    NewlinesBackward newlines(buf.data(), std::min(len, got));
    for (size_t q; (q = newlines.prev()) != NewlinesBackward::none;) {
      std::string_view head(buf.data() + q + 1, std::min(k_head, got - q - 1));
      if (visit(head, lo + q + 1)) return following;
    }
    hi = lo;
  }
  return visit(read_head(chain, begin, end), begin) ? following : begin;
}

uint64_t head_end(const Chain& chain, uint64_t begin, uint64_t end, uint64_t n, Lines lines) {
  if (n == 0) return begin;
  uint64_t counted = 0, after = end;
  each_record(chain, begin, end, [&](uint64_t, uint64_t next, std::string_view head) {
    if (next < end && !ends_line(head, lines)) return true;
    after = next;
    return ++counted < n;
  });
  return counted >= n ? after : end;
}

uint64_t time_bound(const Chain& chain, uint64_t begin, uint64_t end, int64_t t_ns) {
  uint64_t lo = begin, hi = end;
  while (hi - lo > k_linear) {
    uint64_t s = next_start(chain, begin, lo + (hi - lo) / 2, hi);
    if (s >= hi) break;
    int64_t ts = 0;
    if (cri::parse_time(read_head(chain, s, end), ts) && ts >= t_ns)
      hi = s;
    else
      lo = s;
  }
  uint64_t found = hi;
  each_record(chain, lo, hi, [&](uint64_t start, uint64_t, std::string_view head) {
    int64_t ts = 0;
    if (!cri::parse_time(head, ts) || ts < t_ns) return true;
    found = start;
    return false;
  });
  return found;
}

uint64_t first_out_of_order(const Chain& chain, uint64_t begin, uint64_t end) {
  std::string last_stamp;  // the newest record's stamp while records have this writer's shape
  int64_t last_ns = std::numeric_limits<int64_t>::min();
  uint64_t found = end;
  each_record(chain, begin, end, [&](uint64_t start, uint64_t, std::string_view head) {
    bool fixed = cri::fixed_shape(head);
    if (fixed && !last_stamp.empty()) {
      std::string_view stamp = head.substr(0, cri::k_stamp_length);
      if (stamp < last_stamp) return found = start, false;
      last_stamp.assign(stamp);
      return true;
    }
    int64_t ts = 0;
    if (!cri::parse_time(head, ts)) return true;
    if (!last_stamp.empty()) time::parse_rfc3339(last_stamp, last_ns);
    if (ts < last_ns) return found = start, false;
    last_ns = ts;
    last_stamp = fixed ? std::string(head.substr(0, cri::k_stamp_length)) : std::string();
    return true;
  });
  return found;
}

uint64_t line_start(const Chain& chain, uint64_t begin, uint64_t pos, uint64_t end) {
  if (pos <= begin || pos >= end) return pos;
  // The record before pos is at most one record long: a P record of ours, or any line.
  Buffer buf(static_cast<size_t>(std::min<uint64_t>(cri::k_max_text + 2 * k_head, pos - begin)));
  uint64_t from = pos - buf.size();
  size_t got = chain.read(from, buf.data(), buf.size());
  const void* nl = got > 1 ? memrchr(buf.data(), '\n', got - 1) : nullptr;
  if (!nl && from > begin) return pos;  // a longer line: not one of our P records
  uint64_t prev = nl ? from + static_cast<uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1 : begin;
  if (!cri::is_partial(read_head(chain, prev, end))) return pos;
  // pos is inside a logical line: skip to the end of its F record.
  uint64_t after = end;
  each_record(chain, pos, end, [&](uint64_t, uint64_t next, std::string_view head) {
    if (cri::is_partial(head)) return true;
    after = next;
    return false;
  });
  return after;
}

}  // namespace cube::logs
