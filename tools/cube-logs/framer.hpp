// cube::logs::Framer and Demux — bytes of a container's output in, CRI records out, in bounded
// memory whatever the line lengths.
#pragma once

#include "cri.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cube::logs {

// Cuts one stream into lines: a complete line becomes one F record; a line longer than
// cri::k_max_text becomes P records of k_max_text bytes and an F record with the rest. At most
// k_max_text bytes of an unfinished line are held.
class Framer {
 public:
  explicit Framer(cri::Stream stream) : m_stream(stream) {}

  // Appends to `out` the records that `data` (which arrived at `stamp`) completes.
  void feed(std::string_view data, std::string_view stamp, std::string& out);
  // Writes the held part of an unfinished line, if any: as F when the stream ended (a child that
  // exits mid-line), as P when forwarding stops while the line may go on.
  void finish(std::string_view stamp, bool stream_ended, std::string& out);
  cri::Stream stream() const { return m_stream; }

 private:
  // Adds `text` (part of a line, without its newline) to the held part, writing a P record each
  // time the held part is full and more of the line follows.
  void hold(std::string_view text, std::string_view stamp, std::string& out);

  cri::Stream m_stream;
  std::string m_pending;
  std::string m_head;  // the record head of the current read
};

// Splits the framed multiplex of the socket / vsock channel: each frame is one byte of stream
// (1 stdout, 2 stderr), a 32-bit big-endian payload length, then the payload. Payloads are passed
// on as they arrive, so a frame's size costs no memory.
class Demux {
 public:
  struct Piece {
    cri::Stream stream;
    std::string_view data;
  };
  // Consumes bytes from `data` and returns the next piece of payload (empty data when `data` held
  // only header bytes). Throws Error on an unknown stream byte.
  Piece next(std::string_view& data);
  // True between frames: the connection may end here without losing a partial frame.
  bool at_boundary() const { return m_header_len == 0 && m_remaining == 0; }
  uint64_t frames() const { return m_frames; }

 private:
  unsigned char m_header[5] = {};
  size_t m_header_len = 0;
  uint32_t m_remaining = 0;
  cri::Stream m_stream = cri::Stream::out;
  uint64_t m_frames = 0;
};

}  // namespace cube::logs
