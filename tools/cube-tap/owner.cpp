#include "owner.hpp"

#include "fs.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>

namespace cube::tap {
namespace {

// Field 22 of /proc/PID/stat, the start time in clock ticks; "" when the process is gone.
std::string start_time(std::string_view pid) {
  std::string text;
  try {
    text = fs::read_file(fmt::format("/proc/{}/stat", pid), 4096);
  } catch (...) {
    return {};
  }
  size_t pos = text.rfind(')');  // the command name may hold spaces and parentheses
  if (pos == std::string::npos) return {};
  int field = 2;
  while (field < 22 && pos != std::string::npos) {
    pos = text.find(' ', pos + 1);
    ++field;
  }
  if (pos == std::string::npos) return {};
  size_t end = text.find(' ', pos + 1);
  return text.substr(pos + 1, end - pos - 1);
}

}  // namespace

const std::string& self_owner() {
  static const std::string owner = fmt::format("{}:{}", ::getpid(), start_time(std::to_string(::getpid())));
  return owner;
}

bool owner_alive(std::string_view owner) {
  size_t colon = owner.find(':');
  if (owner.empty() || colon == std::string_view::npos) return false;
  std::string_view pid = owner.substr(0, colon);
  int n = 0;
  auto [end, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), n);
  if (ec != std::errc() || end != pid.data() + pid.size() || n <= 0) return false;
  std::string now = start_time(pid);
  return !now.empty() && now == owner.substr(colon + 1);
}

}  // namespace cube::tap
