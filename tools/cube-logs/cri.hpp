// cube::logs::cri — the CRI log line format (doc/cube-logs.md, "Where it deliberately differs,
// and why"):
//
//   <RFC3339Nano UTC> <stdout|stderr> <P|F> <text>\n
//
// one record per line; a line longer than k_max_text bytes is split into P (partial) records ended
// by one F (full) record. Text bytes are stored as they came (no escaping, no re-encoding), so a
// record ends at the first newline. Timestamps are always nine-digit UTC, so they sort as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cube::logs::cri {

enum class Stream { out, err };
std::string_view stream_name(Stream s);  // "stdout" / "stderr"

// The longest text one record carries, as kubelet and containerd split it.
inline constexpr size_t k_max_text = 16 * 1024;
// The fixed length of the timestamps this writer emits ("2026-11-29T19:48:53.123456789Z").
inline constexpr size_t k_stamp_length = 30;

// Appends what a record has before its text: `stamp` (a formatted timestamp), the stream, P or F,
// each followed by a space. A writer framing many records with one stamp makes it once.
void append_head(std::string& out, std::string_view stamp, Stream stream, bool partial);
// Appends one record to `out`: its head, the text, \n.
void append_record(std::string& out, std::string_view stamp, Stream stream, bool partial, std::string_view text);

struct Record {
  int64_t time_ns = 0;
  std::string_view stream;  // "stdout", "stderr" or what the writer put there
  bool partial = false;
  std::string_view text;  // without the newline
};

// The fields of a stored line with the shape of a CRI record, the time not parsed: what printing
// needs, at a fraction of parse()'s cost. False for a line of another shape.
struct Fields {
  std::string_view stamp;
  std::string_view stream;
  bool partial = false;
  std::string_view text;
};
inline bool split(std::string_view line, Fields& out);

// Parses one stored line (without its newline). False when the line is not a CRI record, which is
// how plain files from other writers are recognised.
bool parse(std::string_view line, Record& out);
// True when `head` (the start of a stored line) has the shape of a P record: the cheap test that
// counting lines backwards needs, without parsing the time.
inline bool is_partial(std::string_view head);

// Only the timestamp: the cheap test binary search needs.
bool parse_time(std::string_view line, int64_t& time_ns);

// split() and is_partial() run once per line of a --tail: the shape of this writer's own records is
// tested inline, and only other lines take these general paths.
bool split_general(std::string_view line, Fields& out);
bool is_partial_general(std::string_view head);

// This writer's records have a 30-byte stamp, so their fields sit at fixed offsets.
inline bool fixed_shape(std::string_view line) {
  return line.size() >= 40 && line[29] == 'Z' && line[30] == ' ' && line[37] == ' ' && line[39] == ' ' &&
         line[0] >= '0' && line[0] <= '9' && line[4] == '-' && line[10] == 'T' && (line[38] == 'P' || line[38] == 'F');
}

inline bool is_partial(std::string_view head) { return fixed_shape(head) ? head[38] == 'P' : is_partial_general(head); }

// Always inlined: g++ kept it out of line, and the call cost 4% of a --tail 100000.
[[gnu::always_inline]] inline bool split(std::string_view line, Fields& out) {
  if (!fixed_shape(line) || (line.compare(31, 6, "stdout") != 0 && line.compare(31, 6, "stderr") != 0))
    return split_general(line, out);
  out.stamp = line.substr(0, 30);
  out.stream = line.substr(31, 6);
  out.partial = line[38] == 'P';
  out.text = line.substr(40);
  return true;
}

}  // namespace cube::logs::cri
