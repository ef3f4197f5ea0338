// A real PostgreSQL 15 server for a unit test binary, through tests/pg-server: started on first
// use, stopped and removed at exit. When the server cannot be had (no postgresql-15), available()
// is false and reason() says why, in one line, for GTEST_SKIP. Any part's tests may use it.
#pragma once

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace cube::test {

class PgServer {
 public:
  static PgServer& get() {
    static PgServer server;
    return server;
  }
  bool available() const { return !m_dir.empty(); }
  const std::string& reason() const { return m_reason; }
  // The URL of database postgres as user postgres, search_path set to `schema` when given.
  std::string url(std::string_view schema = {}) const {
    std::string u = fmt::format("postgresql://postgres@/postgres?host={}", m_dir);
    if (!schema.empty()) u += fmt::format("&options=-csearch_path%3D{}", schema);
    return u;
  }
  const std::string& dir() const { return m_dir; }
  // As a crash would: the server stops at once, without a checkpoint.
  void crash() { run(fmt::format("crash {}", m_dir)); }
  void restart() { run(fmt::format("restart {}", m_dir)); }

  ~PgServer() {
    if (!m_dir.empty()) std::system(fmt::format("'{}' stop '{}'", m_script, m_dir).c_str());
  }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

 private:
  PgServer() : m_script(script()) {
    FILE* p = ::popen(fmt::format("'{}' start 2>&1", m_script).c_str(), "r");
    if (!p) throw std::runtime_error("cannot run tests/pg-server");
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = ::pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      m_dir = out;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      m_reason = out;
    } else {
      throw std::runtime_error("tests/pg-server start failed: " + out);
    }
  }

  void run(const std::string& args) {
    if (std::system(fmt::format("'{}' {}", m_script, args).c_str()) != 0)
      throw std::runtime_error("tests/pg-server " + args + " failed");
  }

  // tests/pg-server from $CUBE_ROOT, else the first directory above this binary that has it.
  static std::string script() {
    if (const char* root = std::getenv("CUBE_ROOT"); root && *root) return std::string(root) + "/tests/pg-server";
    std::filesystem::path dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    for (; dir != dir.root_path(); dir = dir.parent_path())
      if (std::filesystem::exists(dir / "tests/pg-server")) return dir / "tests/pg-server";
    throw std::runtime_error("cannot find tests/pg-server above the test binary; set CUBE_ROOT");
  }

  std::string m_script;
  std::string m_dir;
  std::string m_reason;
};

}  // namespace cube::test
