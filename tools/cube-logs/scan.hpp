// cube::logs scan — finding where to start and stop in a Chain without reading all of it.
//
// A "line" is a stored line (raw) or a logical line (P records up to and including their F record,
// or any non-CRI line). Counting follows GNU tail/head: the last line counts even without its
// newline. All ranges are global [begin, end) offsets that start at a line boundary.
#pragma once

#include "chain.hpp"

#include <cstdint>

namespace cube::logs {

enum class Lines { stored, logical };

// The offset where the last `n` lines of [begin, end) start, reading backwards in large blocks:
// the cost is the bytes of those lines, not the size of the chain. n == 0 gives `end`.
uint64_t tail_start(const Chain& chain, uint64_t begin, uint64_t end, uint64_t n, Lines lines);
// The offset just after the first `n` lines of [begin, end).
uint64_t head_end(const Chain& chain, uint64_t begin, uint64_t end, uint64_t n, Lines lines);
// The start of the first record in [begin, end) whose timestamp is ≥ t_ns (`end` when none), by
// binary search over byte offsets: O(log n) small reads. Records must be in time order, as the
// forwarder writes them; lines without a CRI timestamp count as older than any t.
uint64_t time_bound(const Chain& chain, uint64_t begin, uint64_t end, int64_t t_ns);

// The start of the first record in [begin, end) whose timestamp is earlier than one before it
// (`end` when the records are in order): one pass over the range, comparing this writer's stamps
// as text (nine digits and Z sort as times) and parsing others. time_bound's answer holds only
// when there is none.
uint64_t first_out_of_order(const Chain& chain, uint64_t begin, uint64_t end);

// `pos` when it starts a logical line, else the start of the next one (a record inside a run of P
// records belongs to the line that run started). For the bounds time_bound finds.
uint64_t line_start(const Chain& chain, uint64_t begin, uint64_t pos, uint64_t end);

}  // namespace cube::logs
