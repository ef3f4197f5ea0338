// Small helpers shared by the unit tests: a temporary directory, a redirected stdout/stderr, and a
// scoped umask. Real files and real descriptors, no mocks.
#pragma once

#include "error.hpp"
#include "fd.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cube::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = fmt::format("{}/cube-unit.XXXXXX", base && *base ? base : "/tmp");
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    m_path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  // The directory opened (O_DIRECTORY), for calls that work beneath a directory fd.
  Fd open() const { return Fd(::open(m_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }
  std::string operator/(std::string_view rel) const { return fmt::format("{}/{}", m_path, rel); }

 private:
  std::string m_path;
};

// Points `fd` (STDOUT_FILENO or STDERR_FILENO) at an in-memory file until text() or the end of the
// scope puts the original back. A memfd rather than a pipe: a test that writes more than a pipe
// holds must not block on itself.
class Redirect {
 public:
  explicit Redirect(int fd) : m_fd(fd) {
    std::fflush(nullptr);
    m_saved = ::dup(fd);
    m_mem = ::memfd_create("cube-unit-capture", MFD_CLOEXEC);
    if (m_saved < 0 || m_mem < 0 || ::dup2(m_mem, fd) < 0) throw std::runtime_error("cannot redirect");
  }
  ~Redirect() {
    restore();
    if (m_mem >= 0) ::close(m_mem);
  }
  Redirect(const Redirect&) = delete;
  Redirect& operator=(const Redirect&) = delete;

  // Restores the original descriptor and returns everything written meanwhile.
  std::string text() {
    restore();
    std::string out;
    char buf[65536];
    ssize_t n;
    ::lseek(m_mem, 0, SEEK_SET);
    while ((n = ::read(m_mem, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  void restore() {
    if (m_saved < 0) return;
    std::fflush(nullptr);
    ::dup2(m_saved, m_fd);
    ::close(m_saved);
    m_saved = -1;
  }
  int m_fd;
  int m_saved = -1;
  int m_mem = -1;
};

// Sets the process umask for the scope, so mode assertions do not depend on the caller's shell.
class Umask {
 public:
  explicit Umask(mode_t mask) : m_old(::umask(mask)) {}
  ~Umask() { ::umask(m_old); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t m_old;
};

// Permission bits of `path` (lstat), or -1 when it does not exist.
inline int mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

inline void write_text(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != data.size()) throw std::runtime_error("short write to " + path);
}

// How often `needle` occurs in `hay`.
inline size_t count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

// The cube::Error that `f` throws; the test fails when it throws none.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no cube::Error thrown";
  return Error(Exit::ok, "");
}

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

}  // namespace cube::test
