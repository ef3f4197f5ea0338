#include "binary_stamp.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"
#include "sha256.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <cstring>
#include <vector>

namespace cube::versions {
namespace {

constexpr std::string_view k_marker_prefix = "@(#)cube-stamp ";
constexpr size_t k_max_marker = 512;  // the body after the prefix
constexpr size_t k_block = 4 * 1024 * 1024;
// Bytes of one read kept for the next, so a marker that straddles two reads is found whole.
constexpr size_t k_carry = k_marker_prefix.size() + k_max_marker;

// Parses "version=V commit=C build_time=T" (the marker's body).
std::optional<version::Stamp> parse_marker(std::string_view body) {
  version::Stamp s;
  for (std::string_view rest = body; !rest.empty();) {
    size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    size_t eq = word.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view k = word.substr(0, eq), v = word.substr(eq + 1);
    if (k == "version")
      s.version = v;
    else if (k == "commit")
      s.commit = v;
    else if (k == "build_time")
      s.build_time = v;
  }
  if (s.version.empty()) return std::nullopt;
  return s;
}

enum class Scan { found, none, incomplete };

// Looks at every occurrence of the prefix in `window`, not just the first: a binary also holds the
// prefix as this file's search literal, and other text may follow it that is not a stamp. A marker
// cut off by the end of the window is `incomplete` unless the file ends there (`at_eof`).
Scan find_marker(std::string_view window, bool at_eof, std::optional<version::Stamp>& out) {
  for (size_t at = window.find(k_marker_prefix); at != std::string_view::npos;
       at = window.find(k_marker_prefix, at + 1)) {
    std::string_view body = window.substr(at + k_marker_prefix.size(), k_max_marker);
    size_t end = body.find_first_of(std::string_view("\n\0", 2));
    if (end == std::string_view::npos && body.size() < k_max_marker && !at_eof) return Scan::incomplete;
    if ((out = parse_marker(body.substr(0, end)))) return Scan::found;
  }
  return Scan::none;
}

}  // namespace

BinaryInfo inspect_binary(const std::string& path) {
  Fd fd = fs::open_regular(path);  // a FIFO or device would never end
  Sha256 hash;
  BinaryInfo info;
  // The buffer starts with the last k_carry bytes of the previous read.
  std::vector<char> buf(k_carry + k_block);
  size_t carry = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data() + carry, k_block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", path));
    hash.update(buf.data() + carry, static_cast<size_t>(n));
    std::string_view window(buf.data(), carry + static_cast<size_t>(n));
    if (!info.stamp) find_marker(window, n == 0, info.stamp);
    if (n == 0) break;
    carry = std::min(window.size(), k_carry);
    std::memmove(buf.data(), window.data() + window.size() - carry, carry);
  }
  info.sha256 = hash.hex();
  return info;
}

}  // namespace cube::versions
