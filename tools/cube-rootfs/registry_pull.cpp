#include "registry_pull.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"
#include "image_source.hpp"
#include "json_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>

extern char** environ;

namespace cube::rootfs {
namespace {

constexpr size_t k_max_creds = 64 << 10;
constexpr size_t k_max_output = 64 << 10;  // of skopeo's messages kept (the last part)

bool on_path(const std::string& cmd) {
  const char* path = std::getenv("PATH");
  std::string_view p = path ? path : "/usr/bin:/bin";
  for (size_t pos = 0; pos <= p.size();) {
    size_t c = p.find(':', pos);
    if (c == std::string_view::npos) c = p.size();
    if (::access((std::string(p.substr(pos, c - pos)) + "/" + cmd).c_str(), X_OK) == 0) return true;
    pos = c + 1;
  }
  return false;
}

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&m_fa); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&m_fa); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &m_fa; }

 private:
  posix_spawn_file_actions_t m_fa;
};

struct RunResult {
  int status = 0;
  std::string output;  // stdout and stderr together, the last k_max_output bytes
};

// Runs argv[0] from PATH with stdout and stderr captured (our stdout carries results only).
RunResult run_captured(std::vector<std::string> args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw sys_error(errno, "creating a pipe for " + args[0]);
  Fd rd(fds[0]), wr(fds[1]);
  SpawnActions fa;
  posix_spawn_file_actions_adddup2(fa.get(), wr.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(fa.get(), wr.get(), STDERR_FILENO);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], fa.get(), nullptr, argv.data(), environ);
  if (rc != 0) throw sys_error(rc, "starting " + args[0]);
  wr.reset();
  RunResult r;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
    if (r.output.size() > 2 * k_max_output) r.output.erase(0, r.output.size() - k_max_output);
  }
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

// skopeo's reason: the msg="..." of its last fatal line, or its last line; printable, bounded.
std::string skopeo_reason(const std::string& output) {
  std::string_view out = output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.remove_suffix(1);
  std::string_view line = out.substr(out.rfind('\n') == std::string_view::npos ? 0 : out.rfind('\n') + 1);
  if (size_t m = line.find("msg=\""); m != std::string_view::npos) {
    line = line.substr(m + 5);
    if (size_t end = line.rfind('"'); end != std::string_view::npos) line = line.substr(0, end);
  }
  std::string clean;
  for (char c : line.substr(0, 400))
    if (c != '\\') clean += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return clean.empty() ? "skopeo exited non-zero" : "skopeo: " + clean;
}

std::string pull_hint(const std::string& reason) {
  auto has = [&](std::string_view s) { return reason.find(s) != std::string::npos; };
  if (has("unauthorized") || has("authentication required") || has("denied"))
    return "check the USER:PASSWORD in --registry-auth";
  if (has("HTTP response to HTTPS client")) return "the registry speaks plain HTTP: add --no-tls-verify";
  if (has("x509") || has("certificate"))
    return "give the registry's CA certificate with --cert-dir DIR (a *.crt file), or --no-tls-verify";
  if (has("manifest unknown") || has("not found")) return "check the image name and tag";
  return "";
}

}  // namespace

std::string registry_host(const std::string& ref) {
  size_t slash = ref.find('/');
  std::string first = ref.substr(0, slash);
  bool is_host = slash != std::string::npos &&
                 (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost");
  return is_host ? first : "docker.io";
}

std::string registry_auth_json(const std::string& ref, std::string creds) {
  while (!creds.empty() && (creds.back() == '\n' || creds.back() == '\r')) creds.pop_back();
  if (creds.find(':') == std::string::npos || creds.front() == ':')
    throw Error(Exit::usage, "--registry-auth file does not hold USER:PASSWORD");
  std::string b64(4 * ((creds.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(creds.data()), static_cast<int>(creds.size()));
  b64.resize(static_cast<size_t>(n));
  json::Writer w;
  w.begin_object();
  w.key("auths");
  w.begin_object();
  w.key(registry_host(ref));
  w.begin_object();
  w.field("auth", b64);
  w.end_object();
  w.end_object();
  w.end_object();
  return w.str();
}

std::vector<std::string> skopeo_args(const PullRequest& req) {
  std::vector<std::string> args = {"skopeo", "copy", "-q"};
  if (!req.auth_file.empty()) args.push_back("--src-authfile=" + req.auth_tmp);
  if (!req.tls_verify) args.push_back("--src-tls-verify=false");
  if (!req.cert_dir.empty()) args.push_back("--src-cert-dir=" + req.cert_dir);
  args.push_back("docker://" + req.ref);
  args.push_back("oci:" + req.layout + ":image");
  return args;
}

void pull_image(const PullRequest& req) {
  if (!on_path("skopeo"))
    throw Error(Exit::failed, fmt::format("cannot pull {}", req.ref), "pulling needs skopeo",
                "install skopeo (Debian package skopeo), or copy the image and give oci:DIR");
  std::error_code ec;
  std::filesystem::remove_all(req.layout, ec);
  std::optional<TempFile> auth;  // removed on every way out of here
  if (!req.auth_file.empty()) {
    auth.emplace(req.auth_tmp);
    fs::atomic_write(req.auth_tmp, registry_auth_json(req.ref, fs::read_file(req.auth_file, k_max_creds)), 0600);
  }
  RunResult r = run_captured(skopeo_args(req));
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) return;
  std::filesystem::remove_all(req.layout, ec);
  std::string reason = skopeo_reason(r.output);
  throw Error(Exit::failed, fmt::format("pulling {} failed", req.ref), reason, pull_hint(reason));
}

}  // namespace cube::rootfs
