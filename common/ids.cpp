#include "ids.hpp"

#include "error.hpp"
#include "escape.hpp"

#include <fmt/format.h>

#include <cctype>
#include <random>

#include <unistd.h>

namespace cube::ids {
namespace {

std::string printable(std::string_view s) {
  std::string out = escape_controls(s.substr(0, 64));
  if (s.size() > 64) out += "…";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_path_safe(std::string_view id) {
  if (id.empty() || id.size() > k_max_length) return false;
  // ASCII only, whatever the locale: std::isalnum would accept Latin-1 letters in some.
  for (unsigned char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check(std::string_view id, std::string_view kind) {
  if (is_path_safe(id)) return;
  std::string why = id.empty()                 ? "it is empty"
                    : id.size() > k_max_length ? fmt::format("{} bytes, the limit is {}", id.size(), k_max_length)
                                               : "only letters, digits, '_' and '-' are allowed";
  throw Error(Exit::usage, fmt::format("invalid {} '{}'", kind, printable(id)), why);
}

std::string default_node() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string name = buf;
  return name.substr(0, name.find('.'));
}

std::string random_hex24() {
  std::random_device rd;
  std::string out;
  while (out.size() < 24) out += fmt::format("{:08x}", rd());
  return out.substr(0, 24);
}

std::string check_template_ref(std::string_view raw) {
  std::string_view id = trim(raw);
  bool prefixed = (id.starts_with("tpl-") && id.size() > 4) || (id.starts_with("snap-") && id.size() > 5);
  if (!prefixed)
    throw Error(Exit::usage, fmt::format("invalid template ID '{}'", printable(raw)),
                "must start with 'tpl-' or 'snap-' and include a non-empty suffix");
  check(id, "template ID");
  return std::string(id);
}

}  // namespace cube::ids
