#include "client_hello.hpp"

#include "targets.hpp"

#include <fmt/format.h>

#include <set>

namespace cube::egress {
namespace {

using Status = HelloPeek::Status;

constexpr uint8_t k_handshake = 22;
constexpr uint8_t k_client_hello = 1;
constexpr size_t k_record_header = 5;
constexpr size_t k_max_record = 16384 + 2048;  // RFC 8446 5.2: plaintext records ≤ 2^14 (some slack as OpenSSL allows)
constexpr uint16_t k_ext_sni = 0, k_ext_alpn = 16;

// A bounds-checked reader over one buffer: every take fails (and stays failed) instead of reading
// past the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : m_d(d) {}
  bool ok() const { return m_ok; }
  size_t left() const { return m_d.size() - m_at; }
  uint32_t u(size_t bytes) {
    if (!m_ok || left() < bytes) return fail(), 0;
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | m_d[m_at++];
    return v;
  }
  std::span<const uint8_t> take(size_t n) {
    if (!m_ok || left() < n) return fail(), std::span<const uint8_t>();
    auto s = m_d.subspan(m_at, n);
    m_at += n;
    return s;
  }
  // A vector with a length prefix of `len_bytes`.
  Reader sub(size_t len_bytes) { return Reader(take(u(len_bytes)), m_ok); }

 private:
  Reader(std::span<const uint8_t> d, bool ok) : m_d(d), m_ok(ok) {}
  void fail() { m_ok = false; }
  std::span<const uint8_t> m_d;
  size_t m_at = 0;
  bool m_ok = true;
};

HelloPeek result(Status s, std::string error = {}) {
  HelloPeek p;
  p.status = s;
  p.error = std::move(error);
  return p;
}

bool name_byte(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// server_name: a list holding one host_name (RFC 6066 3: at most one of each type).
std::optional<std::string> parse_sni(Reader ext, std::string& error) {
  Reader list = ext.sub(2);
  if (!ext.ok() || ext.left() != 0) return error = "server_name: bad length", std::nullopt;
  std::optional<std::string> name;
  while (list.ok() && list.left() > 0) {
    uint8_t type = static_cast<uint8_t>(list.u(1));
    auto n = list.take(list.u(2));
    if (!list.ok()) break;
    if (type != 0) continue;  // no other types are defined; skip them as OpenSSL does
    if (name) return error = "server_name: two host_names", std::nullopt;
    if (n.empty() || n.size() > 255) return error = "server_name: host_name of 0 or over 255 bytes", std::nullopt;
    for (uint8_t c : n)
      if (!name_byte(c)) return error = fmt::format("server_name: byte 0x{:02x} in host_name", c), std::nullopt;
    name = normalize_name(std::string(n.begin(), n.end()));
  }
  if (!list.ok()) return error = "server_name: bad length", std::nullopt;
  if (name && name->empty()) return error = "server_name: empty host_name", std::nullopt;
  return name;
}

bool parse_alpn(Reader ext, std::vector<std::string>& out, std::string& error) {
  Reader list = ext.sub(2);
  if (!ext.ok() || ext.left() != 0 || list.left() == 0) return error = "alpn: bad length", false;
  while (list.ok() && list.left() > 0) {
    auto p = list.take(list.u(1));
    if (!list.ok() || p.empty()) return error = "alpn: empty or truncated protocol name", false;
    out.emplace_back(p.begin(), p.end());
  }
  return true;
}

// The ClientHello body (after the 4-byte handshake header).
HelloPeek parse_body(std::span<const uint8_t> body) {
  Reader r(body);
  HelloPeek p;
  p.status = Status::complete;
  p.hello.legacy_version = static_cast<uint16_t>(r.u(2));
  r.take(32);  // random
  Reader session = r.sub(1);
  Reader suites = r.sub(2);
  Reader compression = r.sub(1);
  if (!r.ok() || session.left() > 32 || suites.left() < 2 || suites.left() % 2 || compression.left() < 1)
    return result(Status::malformed, "ClientHello: bad session, cipher suite or compression vector");
  if (r.left() == 0) return p;  // no extensions: no SNI
  Reader exts = r.sub(2);
  if (!r.ok() || r.left() != 0) return result(Status::malformed, "ClientHello: extensions length does not add up");
  std::set<uint16_t> seen;
  while (exts.ok() && exts.left() > 0) {
    uint16_t type = static_cast<uint16_t>(exts.u(2));
    Reader ext = exts.sub(2);
    if (!exts.ok()) break;
    if (!seen.insert(type).second) return result(Status::malformed, fmt::format("extension {} sent twice", type));
    if (type == k_ext_sni) {
      p.hello.sni = parse_sni(ext, p.error);
      if (!p.error.empty()) return result(Status::malformed, p.error);
    } else if (type == k_ext_alpn && !parse_alpn(ext, p.hello.alpn, p.error)) {
      return result(Status::malformed, p.error);
    }
  }
  if (!exts.ok()) return result(Status::malformed, "ClientHello: an extension overruns the list");
  return p;
}

}  // namespace

HelloPeek peek_client_hello(std::span<const uint8_t> data) {
  // Reassemble the handshake bytes from the records present.
  std::vector<uint8_t> hs;
  size_t at = 0;
  std::optional<size_t> hs_total;  // header + body, once the 4-byte header is in
  while (true) {
    if (data.size() - at < k_record_header) {
      HelloPeek p = result(Status::need_more);
      p.need = at + k_record_header;
      if (at == 0 && !data.empty() && data[0] != k_handshake)
        return result(Status::not_tls, fmt::format("first byte 0x{:02x} is not a TLS handshake record", data[0]));
      return p;
    }
    const uint8_t* h = data.data() + at;
    if (h[0] != k_handshake || h[1] != 3)
      return result(at == 0 ? Status::not_tls : Status::malformed,
                    fmt::format("record at byte {} is not a TLS handshake record (0x{:02x}{:02x})", at, h[0], h[1]));
    size_t len = static_cast<size_t>(h[3]) << 8 | h[4];
    if (len == 0 || len > k_max_record) return result(Status::malformed, fmt::format("record length {}", len));
    size_t end = at + k_record_header + len;
    if (end > k_max_client_hello)
      return result(Status::too_large, fmt::format("the ClientHello passes {} bytes", k_max_client_hello));
    if (data.size() < end) {
      HelloPeek p = result(Status::need_more);
      p.need = end;
      return p;
    }
    hs.insert(hs.end(), h + k_record_header, h + k_record_header + len);
    at = end;
    if (!hs_total && hs.size() >= 4) {
      if (hs[0] != k_client_hello)
        return result(Status::malformed, fmt::format("handshake type {} is not a ClientHello", hs[0]));
      hs_total = 4 + (static_cast<size_t>(hs[1]) << 16 | static_cast<size_t>(hs[2]) << 8 | hs[3]);
      if (*hs_total > k_max_client_hello)
        return result(Status::too_large, fmt::format("the ClientHello passes {} bytes", k_max_client_hello));
    }
    if (hs_total && hs.size() >= *hs_total) {
      if (hs.size() > *hs_total) return result(Status::malformed, "bytes after the ClientHello in its record");
      return parse_body(std::span<const uint8_t>(hs).subspan(4));
    }
  }
}

}  // namespace cube::egress
