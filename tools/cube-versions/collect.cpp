#include "collect.hpp"

#include "binary_stamp.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "version.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

namespace cube::versions {
namespace {

constexpr uint64_t k_max_version_file = 64 * 1024;

// First line of a version file, trimmed; nullopt when it is missing or unreadable.
std::optional<std::string> first_line(const std::string& path, std::vector<std::string>& notes) {
  try {
    std::string data = fs::read_file(path, k_max_version_file);
    std::string line = data.substr(0, data.find('\n'));
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    line.erase(line.begin(), std::find_if(line.begin(), line.end(), not_space));
    line.erase(std::find_if(line.rbegin(), line.rend(), not_space).base(), line.end());
    if (line.empty()) {
      notes.push_back(fmt::format("{} is empty", path));
      return std::nullopt;
    }
    return line;
  } catch (const Error& e) {
    notes.push_back(e.message());
    return std::nullopt;
  }
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

void add(std::map<std::string, Component>& out, Component c) {
  std::string key = c.component;
  out.emplace(std::move(key), std::move(c));
}

// Every cube tool installed beside this one, read from the stamp inside its file.
void add_binaries(const CollectInputs& in, std::map<std::string, Component>& out, std::vector<std::string>& notes) {
  const version::Stamp& self = version::current();
  add(out, {in.self_name, self.version, self.commit, self.build_time, "binary"});
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(in.bin_dir.c_str()), ::closedir);
  if (!d) {
    notes.push_back(fmt::format("cannot read {}: {}", in.bin_dir, errno_text(errno)));
    return;
  }
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name, path = in.bin_dir + "/" + name;
    if (!name.starts_with("cube-") || out.count(name) || !is_executable_file(path)) continue;
    try {
      BinaryInfo info = inspect_binary(path);
      if (!info.stamp) {
        notes.push_back(fmt::format("{} carries no cube version stamp", path));
        continue;
      }
      add(out, {name, info.stamp->version, info.stamp->commit, info.stamp->build_time, "binary"});
    } catch (const Error& err) {
      notes.push_back(err.message());
    }
  }
}

// Manifest components installed under the base but not found as binaries (source manifest).
void add_manifest_components(const CollectInputs& in, const Manifest& m, std::map<std::string, Component>& out) {
  for (const auto& [name, c] : m.components) {
    if (out.count(name) || name == "cube-agent" || name == "cube-egress") continue;
    if (!fs::exists(in.base + "/" + name) && !fs::exists(in.base + "/bin/" + name)) continue;
    add(out, {name, c.version, c.commit, c.build_time, "manifest"});
  }
  if (!m.guest_image.agent_version.empty()) add(out, {"cube-agent", m.guest_image.agent_version, "", "", "manifest"});
}

// The kernel: a vmlinux symlink to vmlinux-pvm or vmlinux-bm picks the identity (source file);
// otherwise the manifest's (source manifest).
void add_kernel(const CollectInputs& in, const Manifest* m, std::map<std::string, Component>& out) {
  std::string link = in.base + "/cube-kernel-scf/vmlinux";
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  std::string to = n > 0 ? fs::basename(std::string(target, static_cast<size_t>(n))) : "";
  if (!m) return;
  std::string id;
  std::string source = "manifest";
  if (to == "vmlinux-pvm") {
    id = kernel_identity(m->kernel.pvm_version, m->kernel.vmlinux_pvm_digest_sha256);
    source = "file";
  } else if (to == "vmlinux-bm") {
    id = kernel_identity(m->kernel.version, m->kernel.vmlinux_digest_sha256);
    source = "file";
  } else {
    id = kernel_identity(m->kernel.version, m->kernel.vmlinux_digest_sha256);
  }
  if (!id.empty()) add(out, {"kernel", id, "", "", source});
}

}  // namespace

Collected collect(const CollectInputs& in) {
  Collected result;
  std::map<std::string, Component> found;
  add_binaries(in, found, result.notes);
  std::optional<Manifest> manifest;
  try {
    manifest = read_manifest(in.manifest.path);
  } catch (const Error& e) {
    result.notes.push_back(e.message());
  }
  if (manifest) add_manifest_components(in, *manifest, found);
  add_kernel(in, manifest ? &*manifest : nullptr, found);
  if (auto v = first_line(in.base + "/cube-image/version", result.notes))
    add(found, {"guest-image", *v, "", "", "file"});
  if (auto v = first_line(in.base + "/cube-egress/version", result.notes))
    add(found, {"cube-egress", *v, "", "", "file"});
  for (auto& [name, c] : found) {
    if (std::string why = invalid_reason(c); !why.empty()) {
      result.notes.push_back(fmt::format("{} left out: {}", name, why));
      continue;
    }
    result.components.push_back(std::move(c));
  }
  return result;
}

std::string executable_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  return fs::dirname(std::string(buf, static_cast<size_t>(n)));
}

}  // namespace cube::versions
