// cube::Error — the one exception type tool code throws.
//
// Contract: an Error carries the exit status the tool ends with (doc/conventions.md "Exit status")
// and a message in three parts: what went wrong, why, and an optional hint. `main` prints it once
// as `cube-<tool>: error: <what> (<why>; <hint>)`. Modules throw; only the CLI layer catches.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace cube {

enum class Exit : int {
  ok = 0,
  failed = 1,     // the operation failed
  usage = 2,      // bad usage or invalid input
  not_found = 3,  // the thing named does not exist
  conflict = 4,   // busy, capacity, already exists
  check = 5,      // a --check found a problem
};

class Error : public std::runtime_error {
 public:
  Error(Exit code, std::string what, std::string why = {}, std::string hint = {});

  Exit code() const noexcept { return m_code; }
  const std::string& why() const noexcept { return m_why; }
  const std::string& hint() const noexcept { return m_hint; }
  // "<what> (<why>; <hint>)", the parts that are empty left out.
  std::string message() const;

 private:
  Exit m_code;
  std::string m_why;
  std::string m_hint;
};

// Shorthands for the common cases; each formats `what` with fmt.
template <typename... Args>
[[noreturn]] void fail(Exit code, fmt::format_string<Args...> what, Args&&... args) {
  throw Error(code, fmt::format(what, std::forward<Args>(args)...));
}

// strerror(errnum) as words, for the `why` part.
std::string errno_text(int errnum);

// A hint for errno values whose usual cause an operator can act on (EACCES, ENOSPC, EPERM…);
// empty when there is none worth giving.
std::string errno_hint(int errnum);

// Error from a failed system call: what = "<doing> <object>", why = strerror, hint by errno.
Error sys_error(int errnum, std::string what, Exit code = Exit::failed);

}  // namespace cube
