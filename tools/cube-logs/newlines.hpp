// cube::logs newlines — every newline of a buffer, in order or in reverse, for short lines.
//
// A log line is about a hundred bytes, so one memchr call per line spends much of its time
// starting and stopping. These scanners compare 64 bytes at a time into a bit mask (four SSE2
// compares: x86-64's baseline) and then walk its bits; other targets compare byte by byte.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cube::logs {

// Bit i is set when p[i] is '\n', for i < n <= 64.
inline uint64_t newline_mask(const char* p, size_t n) {
#if defined(__SSE2__)
  if (n == 64) {
    const __m128i nl = _mm_set1_epi8('\n');
    auto part = [&](int k) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      return uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)))} << (16 * k);
    };
    return part(0) | part(1) | part(2) | part(3);
  }
#endif
  uint64_t mask = 0;
  for (size_t i = 0; i < n; ++i) mask |= uint64_t{p[i] == '\n'} << i;
  return mask;
}

// The newlines of data[begin, len), first to last.
class NewlinesForward {
 public:
  NewlinesForward(const char* data, size_t begin, size_t len) : m_data(data), m_len(len), m_chunk(begin) {
    m_mask = begin < len ? newline_mask(data + begin, chunk_size()) : 0;
  }
  // The offset of the next newline, or len when there is none left.
  size_t next() {
    while (m_mask == 0) {
      m_chunk += 64;
      if (m_chunk >= m_len) return m_len;
      m_mask = newline_mask(m_data + m_chunk, chunk_size());
    }
    size_t at = m_chunk + static_cast<size_t>(std::countr_zero(m_mask));
    m_mask &= m_mask - 1;
    return at;
  }

 private:
  size_t chunk_size() const { return m_len - m_chunk < 64 ? m_len - m_chunk : 64; }

  const char* m_data;
  size_t m_len, m_chunk;
  uint64_t m_mask;
};

// The newlines of data[0, end), last to first.
class NewlinesBackward {
 public:
  static constexpr size_t none = SIZE_MAX;

  NewlinesBackward(const char* data, size_t end) : m_data(data), m_chunk(end) {}
  // The offset of the previous newline, or `none`.
  size_t prev() {
    while (m_mask == 0) {
      if (m_chunk == 0) return none;
      size_t n = m_chunk < 64 ? m_chunk : 64;
      m_chunk -= n;
      m_mask = newline_mask(m_data + m_chunk, n);
    }
    int bit = 63 - std::countl_zero(m_mask);
    m_mask &= ~(uint64_t{1} << bit);
    return m_chunk + static_cast<size_t>(bit);
  }

 private:
  const char* m_data;
  size_t m_chunk;
  uint64_t m_mask = 0;
};

}  // namespace cube::logs
