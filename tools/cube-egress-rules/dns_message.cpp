#include "dns_message.hpp"

#include <algorithm>

namespace cube::egress::dns {
namespace {

// A cursor over the message; every read checks the bounds and a failed read poisons it.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : m_bytes(bytes) {}

  bool ok() const { return m_ok; }
  size_t pos() const { return m_pos; }
  void seek(size_t pos) { m_pos = pos; }

  uint8_t u8() {
    if (!need(1)) return 0;
    return m_bytes[m_pos++];
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = static_cast<uint16_t>(m_bytes[m_pos] << 8 | m_bytes[m_pos + 1]);
    m_pos += 2;
    return v;
  }
  uint32_t u32() {
    uint32_t hi = u16();
    return hi << 16 | u16();
  }
  bool skip(size_t n) { return need(n) && (m_pos += n, true); }
  std::span<const uint8_t> bytes() const { return m_bytes; }
  void fail() { m_ok = false; }

 private:
  bool need(size_t n) {
    if (m_ok && m_bytes.size() - m_pos >= n) return true;
    m_ok = false;
    return false;
  }
  std::span<const uint8_t> m_bytes;
  size_t m_pos = 0;
  bool m_ok = true;
};

bool plain_label_byte(uint8_t c) { return c > 0x20 && c < 0x7F && c != '.'; }

// Reads a name at the cursor, following compression pointers. Each pointer must point before the
// pointer itself, so the walk only ever moves backwards through the message and must end.
std::optional<std::string> read_name(Reader& r) {
  std::string name;
  size_t wire = 1;                  // the root's zero byte
  std::optional<size_t> resume;     // where the cursor continues after the first pointer
  size_t limit = r.bytes().size();  // a pointer must land before this
  for (;;) {
    size_t at = r.pos();
    uint8_t len = r.u8();
    if (!r.ok()) return std::nullopt;
    if ((len & 0xC0) == 0xC0) {
      size_t target = static_cast<size_t>(len & 0x3F) << 8 | r.u8();
      if (!r.ok() || target >= at || target >= limit) return std::nullopt;
      if (!resume) resume = r.pos();
      limit = at;
      r.seek(target);
      continue;
    }
    if (len & 0xC0) return std::nullopt;  // the 0x40 and 0x80 label types are obsolete or unused
    if (len == 0) break;
    wire += 1 + len;
    if (wire > k_max_name || r.bytes().size() - r.pos() < len) return std::nullopt;
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i) {
      uint8_t c = r.u8();
      if (!plain_label_byte(c)) return std::nullopt;
      name += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
  }
  if (resume) r.seek(*resume);
  return name;
}

std::optional<Record> read_record(Reader& r) {
  Record rec;
  auto name = read_name(r);
  if (!name) return std::nullopt;
  rec.name = std::move(*name);
  rec.type = r.u16();
  rec.klass = r.u16();
  rec.ttl = r.u32();
  uint16_t rdlength = r.u16();
  if (!r.ok() || r.bytes().size() - r.pos() < rdlength) return std::nullopt;
  size_t end = r.pos() + rdlength;
  if (rec.type == k_type_a && rec.klass == k_class_in) {
    if (rdlength != 4) return std::nullopt;
    rec.address = r.u32();
  } else if (rec.type == k_type_cname && rec.klass == k_class_in) {
    auto target = read_name(r);
    if (!target || r.pos() != end) return std::nullopt;
    rec.target = std::move(*target);
  }
  r.seek(end);
  // RFC 2181 §8: a TTL with the top bit set is read as zero.
  if (rec.ttl > 0x7FFFFFFF) rec.ttl = 0;
  return rec;
}

}  // namespace

std::optional<Header> parse_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < k_header_size) return std::nullopt;
  Reader r(bytes);
  Header h;
  h.id = r.u16();
  h.flags = r.u16();
  h.qdcount = r.u16();
  h.ancount = r.u16();
  h.nscount = r.u16();
  h.arcount = r.u16();
  return h;
}

std::optional<Message> parse(std::span<const uint8_t> bytes) {
  auto header = parse_header(bytes);
  if (!header) return std::nullopt;
  Message m;
  m.header = *header;
  Reader r(bytes);
  r.skip(k_header_size);
  // Each question takes at least 5 bytes and each record 11: a count the message cannot hold is
  // refused before anything is reserved for it.
  size_t rest = bytes.size() - k_header_size;
  if (size_t{header->qdcount} * 5 + size_t{header->ancount} * 11 > rest) return std::nullopt;
  m.questions.reserve(header->qdcount);
  for (uint16_t i = 0; i < header->qdcount; ++i) {
    auto name = read_name(r);
    if (!name) return std::nullopt;
    Question q{std::move(*name), r.u16(), r.u16()};
    if (!r.ok()) return std::nullopt;
    m.questions.push_back(std::move(q));
  }
  m.answers.reserve(header->ancount);
  for (uint16_t i = 0; i < header->ancount; ++i) {
    auto rec = read_record(r);
    if (!rec) return std::nullopt;
    m.answers.push_back(std::move(*rec));
  }
  return m;
}

std::vector<Address> a_records(const Message& m, std::string_view name) {
  std::vector<Address> out;
  std::string current(name);
  uint32_t chain_ttl = UINT32_MAX;
  for (size_t hop = 0; hop <= k_max_cname_hops; ++hop) {
    const Record* cname = nullptr;
    for (const auto& rec : m.answers) {
      if (rec.name != current || rec.klass != k_class_in) continue;
      if (rec.type == k_type_a) out.push_back({rec.address, std::min(rec.ttl, chain_ttl)});
      if (rec.type == k_type_cname && !cname) cname = &rec;
    }
    if (!cname) break;
    chain_ttl = std::min(chain_ttl, cname->ttl);
    current = cname->target;
  }
  return out;
}

}  // namespace cube::egress::dns
