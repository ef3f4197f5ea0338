#include "framer.hpp"

#include "error.hpp"
#include "newlines.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cube::logs {

void Framer::feed(std::string_view data, std::string_view stamp, std::string& out) {
  // Every whole line of `data` gets the same head, so it is made once (in a buffer kept between
  // reads: a chatty container gives a read per line); newlines are found 64 bytes at a time, since
  // a log line is short and a memchr call per line costs more than its scan.
  m_head.clear();
  cri::append_head(m_head, stamp, m_stream, false);
  NewlinesForward newlines(data.data(), 0, data.size());
  size_t pos = 0;
  for (size_t nl; (nl = newlines.next()) < data.size(); pos = nl + 1) {
    std::string_view line = data.substr(pos, nl - pos);
    if (m_pending.empty() && line.size() <= cri::k_max_text) {
      out.append(m_head).append(line).push_back('\n');
      continue;
    }
    hold(line, stamp, out);
    out.append(m_head).append(m_pending).push_back('\n');
    m_pending.clear();
  }
  hold(data.substr(pos), stamp, out);
}

void Framer::hold(std::string_view text, std::string_view stamp, std::string& out) {
  while (!text.empty()) {
    // A full buffer followed by more of the line is a partial record.
    if (m_pending.size() == cri::k_max_text) {
      cri::append_record(out, stamp, m_stream, true, m_pending);
      m_pending.clear();
    }
    size_t take = std::min(cri::k_max_text - m_pending.size(), text.size());
    m_pending.append(text.substr(0, take));
    text.remove_prefix(take);
  }
}

void Framer::finish(std::string_view stamp, bool stream_ended, std::string& out) {
  if (m_pending.empty()) return;
  cri::append_record(out, stamp, m_stream, !stream_ended, m_pending);
  m_pending.clear();
}

Demux::Piece Demux::next(std::string_view& data) {
  while (m_remaining == 0 && !data.empty()) {
    size_t take = std::min(sizeof m_header - m_header_len, data.size());
    std::memcpy(m_header + m_header_len, data.data(), take);
    m_header_len += take;
    data.remove_prefix(take);
    if (m_header_len < sizeof m_header) break;
    m_header_len = 0;
    ++m_frames;
    if (m_header[0] != 1 && m_header[0] != 2)
      throw Error(Exit::failed, fmt::format("log channel frame {} names stream {}", m_frames, m_header[0]),
                  "the stream byte must be 1 (stdout) or 2 (stderr)");
    m_stream = m_header[0] == 1 ? cri::Stream::out : cri::Stream::err;
    m_remaining = (uint32_t{m_header[1]} << 24) | (uint32_t{m_header[2]} << 16) | (uint32_t{m_header[3]} << 8) |
                  uint32_t{m_header[4]};
  }
  size_t take = std::min<size_t>(m_remaining, data.size());
  Piece piece{m_stream, data.substr(0, take)};
  data.remove_prefix(take);
  m_remaining -= static_cast<uint32_t>(take);
  return piece;
}

}  // namespace cube::logs
