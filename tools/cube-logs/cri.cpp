#include "cri.hpp"

#include "timeutil.hpp"

#include <algorithm>

namespace cube::logs::cri {

std::string_view stream_name(Stream s) { return s == Stream::out ? "stdout" : "stderr"; }

void append_head(std::string& out, std::string_view stamp, Stream stream, bool partial) {
  out.append(stamp);
  out.append(stream == Stream::out ? " stdout " : " stderr ");
  out.append(partial ? "P " : "F ");
}

void append_record(std::string& out, std::string_view stamp, Stream stream, bool partial, std::string_view text) {
  append_head(out, stamp, stream, partial);
  out.append(text);
  out.push_back('\n');
}

bool split_general(std::string_view line, Fields& out) {
  if (line.size() < 24 || line[0] < '0' || line[0] > '9' || line[4] != '-' || line[7] != '-' ||
      (line[10] != 'T' && line[10] != 't'))
    return false;
  size_t sp1 = line.substr(0, 41).find(' ');
  if (sp1 == std::string_view::npos || sp1 < 20) return false;
  size_t sp2 = line.substr(0, sp1 + 18).find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1 || sp2 + 1 >= line.size()) return false;
  char tag = line[sp2 + 1];
  if ((tag != 'P' && tag != 'F') || (sp2 + 2 < line.size() && line[sp2 + 2] != ' ')) return false;
  out.stamp = line.substr(0, sp1);
  out.stream = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.partial = tag == 'P';
  // A record with no text may end at its tag. The text then starts at the line's end, not at no
  // address: a printer writes it with the newline that follows it in memory.
  out.text = line.substr(std::min(sp2 + 3, line.size()));
  return true;
}

bool is_partial_general(std::string_view head) {
  if (head.empty() || head[0] < '0' || head[0] > '9') return false;
  size_t sp1 = head.substr(0, 41).find(' ');
  if (sp1 == std::string_view::npos) return false;
  size_t sp2 = head.substr(0, sp1 + 18).find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 + 1 >= head.size() || head[sp2 + 1] != 'P') return false;
  return sp2 + 2 == head.size() || head[sp2 + 2] == ' ';
}

bool parse_time(std::string_view line, int64_t& time_ns) {
  size_t sp = line.find(' ');
  return sp != std::string_view::npos && sp <= 40 && time::parse_rfc3339(line.substr(0, sp), time_ns);
}

bool parse(std::string_view line, Record& out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 > 40) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 - sp1 - 1 > 16 || sp2 == sp1 + 1) return false;
  // The tag field is P or F, optionally followed by other kubelet tags after ':'; we only write P/F.
  if (sp2 + 2 > line.size() || (line[sp2 + 1] != 'P' && line[sp2 + 1] != 'F')) return false;
  bool has_text = sp2 + 2 < line.size();
  if (has_text && line[sp2 + 2] != ' ') return false;
  if (!time::parse_rfc3339(line.substr(0, sp1), out.time_ns)) return false;
  out.stream = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.partial = line[sp2 + 1] == 'P';
  out.text = line.substr(std::min(sp2 + 3, line.size()));
  return true;
}

}  // namespace cube::logs::cri
