#include "inflater.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>

namespace cube::rootfs {
namespace {

constexpr size_t k_out = 1 << 20;

bool gzip_magic(std::string_view head) {
  return head.size() >= 2 && static_cast<uint8_t>(head[0]) == 0x1f && static_cast<uint8_t>(head[1]) == 0x8b;
}

const char* isal_error(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK: return "an invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "an invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "an invalid back-reference";
    case ISAL_INVALID_WRAPPER: return "an invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "a compression method other than deflate";
    case ISAL_INCORRECT_CHECKSUM: return "a CRC-32 or length that does not match the data";
    case ISAL_NEED_DICT: return "a preset dictionary";
  }
  return "an error the inflater does not name";
}

}  // namespace

Inflater::Inflater(ByteSource& raw, std::string name) : m_raw(raw), m_name(std::move(name)) {}

Inflater::~Inflater() = default;

// Reads until the first two bytes are known; copies only when the first read gave fewer.
void Inflater::sniff() {
  const void* d;
  while (m_head.size() < 2) {
    size_t n = m_raw.read(&d);
    if (n == 0) {
      m_raw_done = true;
      break;
    }
    if (m_head.empty() && n >= 2) {
      m_pending = std::string_view(static_cast<const char*>(d), n);
      break;
    }
    m_head.append(static_cast<const char*>(d), n);
    m_pending = m_head;
  }
  m_mode = gzip_magic(m_pending) ? Mode::gzip : Mode::plain;
  if (m_mode != Mode::gzip) return;
  m_state = std::make_unique<inflate_state>();
  isal_inflate_init(m_state.get());
  m_state->crc_flag = ISAL_GZIP;
  m_out.resize(k_out);
}

size_t Inflater::read(const void** data) {
  prepare();
  if (m_mode == Mode::gzip || m_mode == Mode::padding) return inflate(data);
  if (!m_pending.empty()) {
    *data = m_pending.data();
    size_t n = m_pending.size();
    m_pending = {};
    return n;
  }
  return m_raw_done ? 0 : m_raw.read(data);
}

int64_t Inflater::skip(int64_t n) {
  if (m_mode != Mode::plain || !m_pending.empty()) return 0;
  return m_raw.skip(n);
}

// More raw input into m_pending; false at the end of the raw stream.
bool Inflater::refill() {
  if (!m_pending.empty()) return true;
  if (m_raw_done) return false;
  const void* d;
  size_t n = m_raw.read(&d);
  if (n == 0) {
    m_raw_done = true;
    return false;
  }
  m_pending = std::string_view(static_cast<const char*>(d), n);
  return true;
}

size_t Inflater::inflate(const void** data) {
  for (;;) {
    if (m_mode == Mode::padding || m_state->block_state == ISAL_BLOCK_FINISH) {
      after_member();
      if (m_mode == Mode::padding) return 0;
      continue;
    }
    if (!refill()) corrupt("ends in the middle of the gzip stream");
    m_state->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(m_pending.data()));
    m_state->avail_in = static_cast<uint32_t>(std::min<size_t>(m_pending.size(), UINT32_MAX));
    m_state->next_out = m_out.data();
    m_state->avail_out = static_cast<uint32_t>(m_out.size());
    size_t offered = m_state->avail_in;
    int r = isal_inflate(m_state.get());
    m_pending.remove_prefix(offered - m_state->avail_in);
    if (r < 0) corrupt(fmt::format("has {}", isal_error(r)));
    size_t produced = m_out.size() - m_state->avail_out;
    if (produced > 0) {
      *data = m_out.data();
      return produced;
    }
  }
}

// After a member's trailer: another member, zero padding up to the end, or the end itself.
void Inflater::after_member() {
  while (refill()) {
    if (m_mode == Mode::padding || m_pending[0] == '\0') {
      m_mode = Mode::padding;
      if (m_pending.find_first_not_of('\0') != std::string_view::npos)
        corrupt("has data after the zero bytes that end the gzip stream");
      m_pending = {};
      continue;
    }
    if (static_cast<uint8_t>(m_pending[0]) != 0x1f) corrupt("has data after the gzip stream");
    isal_inflate_reset(m_state.get());
    m_state->crc_flag = ISAL_GZIP;
    return;
  }
  m_mode = Mode::padding;  // the end: nothing more to hand out
}

void Inflater::corrupt(std::string_view what) const {
  throw Error(Exit::usage, fmt::format("{}: the gzip stream {}", m_name, what), "the layer is corrupt or truncated");
}

}  // namespace cube::rootfs
