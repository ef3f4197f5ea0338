#include "version.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "json_writer.hpp"
#include "sha256.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <cstring>
#include <vector>

namespace cube::version {

// Defined in the generated build/gen/stamp.cpp.
extern const char k_stamp_marker[];
extern const char k_stamp_version[];
extern const char k_stamp_commit[];
extern const char k_stamp_build_time[];

namespace {

constexpr std::string_view k_marker_prefix = "@(#)cube-stamp ";
constexpr size_t k_max_marker = 512;
constexpr size_t k_block = 4 * 1024 * 1024;

// Parses "version=V commit=C build_time=T" (the marker's body).
std::optional<Stamp> parse_marker(std::string_view body) {
  Stamp s;
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

}  // namespace

const Stamp& current() {
  static const Stamp s{k_stamp_version, k_stamp_commit, k_stamp_build_time};
  // The marker must survive linking; reading it here keeps it referenced.
  static const volatile char keep = k_stamp_marker[0];
  (void)keep;
  return s;
}

std::string line(std::string_view tool) {
  const Stamp& s = current();
  return fmt::format("{} {} ({}) built at {}", tool, s.version, s.commit, s.build_time);
}

std::string json(std::string_view tool) {
  const Stamp& s = current();
  json::Writer w;
  w.begin_object();
  w.field("name", tool);
  w.field("version", s.version);
  w.field("commit", s.commit);
  w.field("build_time", s.build_time);
  w.end_object();
  return w.take();
}

BinaryInfo inspect_binary(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    throw sys_error(errno, fmt::format("cannot open {}", path), errno == ENOENT ? Exit::not_found : Exit::failed);
  Sha256 hash;
  BinaryInfo info;
  // The buffer keeps the last k_max_marker bytes of the previous block so a marker that straddles
  // two reads is still found whole.
  std::vector<char> buf(k_max_marker + k_block);
  size_t carry = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data() + carry, k_block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", path));
    hash.update(buf.data() + carry, static_cast<size_t>(n));
    std::string_view window(buf.data(), carry + static_cast<size_t>(n));
    if (!info.stamp) {
      size_t at = window.find(k_marker_prefix);
      if (at != std::string_view::npos) {
        std::string_view body = window.substr(at + k_marker_prefix.size(), k_max_marker);
        size_t end = body.find_first_of(std::string_view("\n\0", 2));
        if (end != std::string_view::npos || n == 0) info.stamp = parse_marker(body.substr(0, end));
      }
    }
    if (n == 0) break;
    carry = std::min(window.size(), k_max_marker);
    std::memmove(buf.data(), window.data() + window.size() - carry, carry);
  }
  info.sha256 = hash.hex();
  return info;
}

}  // namespace cube::version
