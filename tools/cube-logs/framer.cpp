#include "framer.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cube::logs {

void Framer::feed(std::string_view data, std::string_view stamp, std::string& out) {
  using cri::k_max_text;
  while (!data.empty()) {
    // A full buffer followed by more text (not the newline that would end it) is a partial record.
    if (m_pending.size() == k_max_text && data.front() != '\n') {
      cri::append_record(out, stamp, m_stream, true, m_pending);
      m_pending.clear();
    }
    size_t room = k_max_text - m_pending.size();
    const void* hit = std::memchr(data.data(), '\n', std::min(data.size(), room + 1));
    if (hit) {
      size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
      if (m_pending.empty()) {
        cri::append_record(out, stamp, m_stream, false, data.substr(0, nl));
      } else {
        m_pending.append(data.substr(0, nl));
        cri::append_record(out, stamp, m_stream, false, m_pending);
        m_pending.clear();
      }
      data.remove_prefix(nl + 1);
    } else {
      size_t take = std::min(room, data.size());
      m_pending.append(data.substr(0, take));
      data.remove_prefix(take);
    }
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
