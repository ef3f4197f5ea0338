// A fuzz target's scratch path, /tmp/fuzz-NAME-PID, removed with everything under it when the run
// ends with exit(), as libFuzzer's runs do: `make check` leaves no file of a fuzz run behind.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace cube::fuzz {

// The same path on every call of a run; `name` is used by the first.
inline const std::string& scratch_path(std::string_view name) {
  struct Scratch {
    std::string path;
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Scratch s{"/tmp/fuzz-" + std::string(name) + "-" + std::to_string(::getpid())};
  return s.path;
}

}  // namespace cube::fuzz
