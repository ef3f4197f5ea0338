#include "mount_ns.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <climits>

extern char** environ;

namespace cube::logs {
namespace {

constexpr size_t k_max_unit = 256;

std::string ns_of_pid(std::string_view pid, std::string_view origin) {
  long n = 0;
  auto [end, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), n);
  if (ec != std::errc() || end != pid.data() + pid.size() || n < 1 || n > INT_MAX)
    throw Error(Exit::usage, fmt::format("{}: \"{}\" is not a process ID", origin, pid));
  return fmt::format("/proc/{}/ns/mnt", n);
}

bool unit_name_ok(std::string_view name) {
  if (name.empty() || name.size() > k_max_unit || name[0] == '-') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view(":_.@-\\").find(c) == std::string_view::npos)
      return false;
  return true;
}

// `systemctl show --property=MainPID --value NAME`, without a shell.
std::string main_pid_of(const std::string& unit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw sys_error(errno, "creating a pipe");
  Fd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  std::string prop = "--property=MainPID";
  char* argv[] = {const_cast<char*>("systemctl"), const_cast<char*>("show"),       prop.data(),
                  const_cast<char*>("--value"),   const_cast<char*>(unit.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "systemctl", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw sys_error(rc, fmt::format("running systemctl to find unit {}", unit));
  write_end.reset();
  std::string out = fs::read_fd(read_end.get(), 4096, "systemctl's answer");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(Exit::failed, fmt::format("systemctl show {} failed", unit));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string resolve_mount_ns(std::string_view spec, std::string_view origin) {
  if (spec.empty()) return {};
  if (spec.substr(0, 4) == "pid:") return ns_of_pid(spec.substr(4), origin);
  if (spec.substr(0, 5) == "unit:") {
    std::string unit(spec.substr(5));
    if (!unit_name_ok(unit)) throw Error(Exit::usage, fmt::format("{}: \"{}\" is not a unit name", origin, unit));
    std::string pid = main_pid_of(unit);
    if (pid == "0" || pid.empty())
      throw Error(Exit::not_found, fmt::format("{}: unit {} has no running main process", origin, unit), "",
                  fmt::format("is {} started? systemctl status {}", unit, unit));
    return ns_of_pid(pid, origin);
  }
  if (spec[0] != '/')
    throw Error(Exit::usage, fmt::format("{}: \"{}\" is not a mount namespace", origin, spec),
                "give an absolute path (/proc/PID/ns/mnt), pid:N or unit:NAME");
  return std::string(spec);
}

void enter_mount_ns(const std::string& path) {
  Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns)
    throw sys_error(errno, fmt::format("cannot open mount namespace {}", path),
                    errno == ENOENT ? Exit::not_found : Exit::failed);
  std::string cwd = fs::current_dir();
  if (::setns(ns.get(), CLONE_NEWNS) != 0)
    throw Error(Exit::failed, fmt::format("cannot enter mount namespace {}", path), errno_text(errno),
                errno == EPERM ? "entering a mount namespace needs CAP_SYS_ADMIN (run as root)"
                               : "the path must be a mount namespace, like /proc/PID/ns/mnt");
  // setns leaves us at the new namespace's root; a directory missing there only matters to a
  // relative --root, which then fails naming it.
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::chdir("/");
}

}  // namespace cube::logs
