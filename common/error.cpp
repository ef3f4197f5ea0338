#include "error.hpp"

#include <cerrno>
#include <cstring>

namespace cube {

Error::Error(Exit code, std::string what, std::string why, std::string hint)
    : std::runtime_error(std::move(what)), m_code(code), m_why(std::move(why)), m_hint(std::move(hint)) {}

std::string Error::message() const {
  std::string out = what();
  if (m_why.empty() && m_hint.empty()) return out;
  out += " (";
  out += m_why;
  if (!m_why.empty() && !m_hint.empty()) out += "; ";
  out += m_hint;
  out += ')';
  return out;
}

std::string errno_text(int errnum) {
  char buf[256];
  // GNU strerror_r returns the message, which may or may not live in buf.
  return strerror_r(errnum, buf, sizeof buf);
}

std::string errno_hint(int errnum) {
  switch (errnum) {
    case EACCES:
    case EPERM: return "run as root or with the needed capability";
    case ENOSPC: return "the disk is full";
    case EROFS: return "the file system is read-only";
    case EMFILE:
    case ENFILE: return "too many open files; raise the limit with ulimit -n";
    case ELOOP: return "a symbolic link is in the way and links are not followed here";
    default: return {};
  }
}

Error sys_error(int errnum, std::string what, Exit code) {
  return Error(code, std::move(what), errno_text(errnum), errno_hint(errnum));
}

}  // namespace cube
