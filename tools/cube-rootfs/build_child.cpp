#include "build_child.hpp"

#include "error.hpp"
#include "heap.hpp"
#include "log.hpp"
#include "seccomp_policy.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>

namespace cube::rootfs {
namespace {

using json = nlohmann::json;

// About what the bench image's build allocates (its tree, two layers' entry lists and buffers).
constexpr size_t k_build_heap = 16 << 20;

void write_line(int fd, const std::string& line) {
  std::string s = line + "\n";
  for (size_t done = 0; done < s.size();) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // the parent is gone; PDEATHSIG follows
    done += static_cast<size_t>(n);
  }
}

json result_json(const BuildResult& r, const ImageSource& src) {
  return {{"source_digest", src.digest},
          {"image_bytes", r.image_bytes},
          {"allocated", r.allocated_bytes},
          {"image_sha256", r.image_sha256},
          {"entries", r.entries},
          {"inodes", r.stats.inodes},
          {"data_bytes", r.stats.data_bytes},
          {"deduplicated", r.deduplicated},
          {"layer_digests", r.layer_digests},
          {"edited", r.edited}};
}

BuildResult parse_result(const json& j) {
  BuildResult r;
  r.source_digest = j.value("source_digest", "");
  r.image_bytes = j.value("image_bytes", uint64_t(0));
  r.allocated_bytes = j.value("allocated", uint64_t(0));
  r.image_sha256 = j.value("image_sha256", "");
  r.entries = j.value("entries", uint64_t(0));
  r.stats.inodes = j.value("inodes", uint64_t(0));
  r.stats.data_bytes = j.value("data_bytes", uint64_t(0));
  r.deduplicated = j.value("deduplicated", uint64_t(0));
  r.layer_digests = j.value("layer_digests", std::vector<std::string>{});
  r.edited = j.value("edited", 0);
  return r;
}

[[noreturn]] void child(int fd, pid_t parent, ImageSource& src, BuildOptions opt, const Isolation& iso) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  try {
    opt.progress = [fd](std::string_view phase, int pct) { write_line(fd, fmt::format("P {} {}", phase, pct)); };
    // The build's threads (layer scans, read-ahead, the image writer) share the main heap, and
    // its first MiBs are faulted in at once: on a VM a page fault costs ten times that (heap.hpp).
    // The child ends with the build, so what it frees stays in its heap for the next allocation.
    heap::keep_freed_memory();
    heap::one_arena();
    heap::prefault(k_build_heap);
    if (iso.seccomp) install_build_policy(iso.writable_dirs, iso.readable_paths);
    BuildResult r = build_image(src, opt);
    write_line(fd, "R " + result_json(r, src).dump());
  } catch (const Error& e) {
    json j = {{"code", static_cast<int>(e.code())}, {"what", e.what()}, {"why", e.why()}, {"hint", e.hint()}};
    write_line(fd, "E " + j.dump());
  } catch (const std::exception& e) {
    write_line(fd, "E " + json({{"code", 1}, {"what", e.what()}}).dump());
  }
  ::_exit(0);
}

}  // namespace

BuildResult build_isolated(ImageSource& src, const BuildOptions& opt, const Isolation& iso) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw sys_error(errno, "creating a pipe");
  Fd rd(fds[0]), wr(fds[1]);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw sys_error(errno, "starting the build process");
  if (pid == 0) {
    rd.reset();
    child(wr.get(), parent, src, opt, iso);
  }
  wr.reset();
  std::string buf, final_line;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(rd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line.starts_with("P ") && opt.progress) {
        size_t sp = line.rfind(' ');
        opt.progress(line.substr(2, sp - 2), std::atoi(line.c_str() + sp + 1));
      } else if (line.starts_with("R ") || line.starts_with("E ")) {
        final_line = line;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (final_line.starts_with("R ")) {
    BuildResult r = parse_result(json::parse(final_line.substr(2)));
    src.digest = r.source_digest;
    return r;
  }
  if (final_line.starts_with("E ")) {
    json j = json::parse(final_line.substr(2));
    throw Error(static_cast<Exit>(j.value("code", 1)), j.value("what", ""), j.value("why", ""), j.value("hint", ""));
  }
  if (WIFSIGNALED(status))
    throw Error(Exit::failed,
                fmt::format("the build process died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status))),
                WTERMSIG(status) == SIGSYS ? "a system call outside the seccomp allowlist" : "",
                WTERMSIG(status) == SIGSYS ? "retry with --no-seccomp and report it" : "");
  throw Error(Exit::failed, "the build process ended without a result");
}

}  // namespace cube::rootfs
