#include "sysctl.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace cube::sysctl {
namespace {

std::string path_of(std::string_view key) {
  std::string path = "/proc/sys/" + std::string(key);
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return path;
}

}  // namespace

std::string read(std::string_view key) {
  std::string text = fs::read_file(path_of(key), 1 << 16);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void write(std::string_view key, std::string_view value) {
  std::string path = path_of(key);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw sys_error(errno, fmt::format("opening sysctl {}", key));
  std::string text = std::string(value) + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw sys_error(errno, fmt::format("setting sysctl {} to {}", key, value));
}

}  // namespace cube::sysctl
