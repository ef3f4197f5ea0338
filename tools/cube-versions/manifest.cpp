#include "manifest.hpp"

#include "binary_stamp.hpp"
#include "component.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "json_writer.hpp"
#include "sha256.hpp"
#include "timeutil.hpp"
#include "version.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

namespace cube::versions {
namespace {

constexpr uint64_t k_max_manifest_bytes = 1 << 20;
constexpr size_t k_max_field = 256;
constexpr size_t k_max_components = 256;

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& where, std::string_view field, std::string why) {
  throw Error(Exit::usage, fmt::format("malformed manifest {}: {}", where, field), std::move(why));
}

// Reads an optional string member; a present member must be a string within the limit.
std::string text(const Json& obj, const char* key, const std::string& where, std::string_view path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  std::string field = path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  if (!it->is_string()) bad(where, field, "expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > k_max_field) bad(where, field, fmt::format("{} bytes, the limit is {}", s.size(), k_max_field));
  return s;
}

const Json& object(const Json& parent, const char* key, const std::string& where) {
  static const Json k_empty = Json::object();
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return k_empty;
  if (!it->is_object()) bad(where, key, "expected an object");
  return *it;
}

std::string first_line_trimmed(const std::string& path) {
  std::string data = fs::read_file(path, k_max_manifest_bytes);
  std::string line = data.substr(0, data.find('\n'));
  line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }), line.end());
  return line;
}

std::string digest_of(const std::string& path) { return path.empty() ? std::string{} : "sha256:" + sha256_file(path); }

std::vector<std::string> cube_binaries(const std::string& dir) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) throw sys_error(errno, fmt::format("cannot read binary directory {}", dir), Exit::usage);
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    struct stat st {};
    if (!name.starts_with("cube-") || ::stat((dir + "/" + name).c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_component(cube::json::Writer& w, const std::string& name, const ComponentEntry& c) {
  w.key(name);
  w.begin_object();
  w.field("version", c.version);
  w.field("commit", c.commit);
  w.field("build_time", c.build_time);
  if (!c.digest_sha256.empty()) w.field("digest_sha256", c.digest_sha256);
  w.end_object();
}

}  // namespace

Manifest parse_manifest(std::string_view data, const std::string& where) {
  Json doc = Json::parse(data, nullptr, false);
  if (doc.is_discarded()) bad(where, "document", "not valid JSON");
  if (!doc.is_object()) bad(where, "document", "expected a JSON object");
  Manifest m;
  m.release_version = text(doc, "release_version", where, "");
  if (m.release_version.empty()) bad(where, "release_version", "missing or empty");
  m.built_at = text(doc, "built_at", where, "");
  m.built_by = text(doc, "built_by", where, "");
  m.git_commit = text(doc, "git_commit", where, "");
  const Json& comps = object(doc, "components", where);
  if (comps.size() > k_max_components) bad(where, "components", fmt::format("more than {}", k_max_components));
  for (const auto& [name, c] : comps.items()) {
    std::string path = "components." + name;
    if (!c.is_object()) bad(where, path, "expected an object");
    if (name.empty() || name.size() > 64) bad(where, path, "component names are 1 to 64 bytes");
    m.components[name] = {text(c, "version", where, path), text(c, "commit", where, path),
                          text(c, "build_time", where, path), text(c, "digest_sha256", where, path)};
  }
  const Json& g = object(doc, "guest_image", where);
  if (!g.empty()) {
    m.guest_image = {text(g, "version", where, "guest_image"), text(g, "digest_sha256", where, "guest_image"),
                     text(g, "base_image", where, "guest_image"), text(g, "agent_version", where, "guest_image")};
  }
  const Json& k = object(doc, "kernel", where);
  m.kernel = {text(k, "version", where, "kernel"), text(k, "vmlinux_digest_sha256", where, "kernel"),
              text(k, "pvm_version", where, "kernel"), text(k, "vmlinux_pvm_digest_sha256", where, "kernel")};
  return m;
}

Manifest read_manifest(const std::string& path) {
  return parse_manifest(fs::read_file(path, k_max_manifest_bytes), path);
}

std::string render_manifest(const Manifest& m) {
  cube::json::Writer w(2);
  w.begin_object();
  w.field("release_version", m.release_version);
  w.field("built_at", m.built_at);
  w.field("built_by", m.built_by);
  w.field("git_commit", m.git_commit);
  w.key("components");
  w.begin_object();
  for (const auto& [name, c] : m.components) write_component(w, name, c);
  w.end_object();
  w.key("guest_image");
  w.begin_object();
  w.field("version", m.guest_image.version);
  w.field("digest_sha256", m.guest_image.digest_sha256);
  w.field("base_image", m.guest_image.base_image);
  w.field("agent_version", m.guest_image.agent_version);
  w.end_object();
  w.key("kernel");
  w.begin_object();
  w.field("version", m.kernel.version);
  w.field("vmlinux_digest_sha256", m.kernel.vmlinux_digest_sha256);
  if (!m.kernel.vmlinux_pvm_digest_sha256.empty()) {
    w.field("pvm_version", m.kernel.pvm_version);
    w.field("vmlinux_pvm_digest_sha256", m.kernel.vmlinux_pvm_digest_sha256);
  }
  w.end_object();
  w.end_object();
  return w.take() + "\n";
}

namespace {

void check_inputs(const ManifestInputs& in) {
  if (in.no_kernel &&
      !(in.vmlinux.empty() && in.kernel_version.empty() && in.vmlinux_pvm.empty() && in.pvm_version.empty()))
    throw Error(Exit::usage, "--no-kernel declares a release without a kernel",
                "it cannot take --vmlinux, --kernel-version, --vmlinux-pvm or --pvm-version");
  if (!in.no_kernel && in.vmlinux.empty())
    throw Error(Exit::usage, "the kernel image is mandatory in a release manifest", "",
                "give --vmlinux FILE, or --no-kernel for a release that ships none");
  for (auto [flag, value] : {std::pair{"--release-version", &in.release_version},
                             {"--guest-image-version", &in.guest_image_version},
                             {"--base-image", &in.base_image},
                             {"--agent-version", &in.agent_version},
                             {"--kernel-version", &in.kernel_version},
                             {"--pvm-version", &in.pvm_version}})
    if (std::string why = field_problem(flag, *value, k_max_version); !why.empty()) throw Error(Exit::usage, why);
}

}  // namespace

Manifest build_manifest(const ManifestInputs& in) {
  check_inputs(in);
  const version::Stamp& self = version::current();
  Manifest m;
  m.release_version = in.release_version.empty() ? self.version : in.release_version;
  m.built_at = self.build_time;
  const char* gha = std::getenv("GITHUB_ACTIONS");
  m.built_by = gha && std::string_view(gha) == "true" ? "github-actions" : "manual";
  m.git_commit = self.commit;
  for (const std::string& name : cube_binaries(in.bin_dir)) {
    BinaryInfo info = inspect_binary(in.bin_dir + "/" + name);
    version::Stamp s = info.stamp.value_or(version::Stamp{"unknown", "unknown", "unknown"});
    m.components[name] = {s.version, s.commit, s.build_time, "sha256:" + info.sha256};
  }
  std::string guest = in.guest_image_version;
  if (guest.empty() && !in.guest_image_version_file.empty()) {
    guest = first_line_trimmed(in.guest_image_version_file);
    if (std::string why = field_problem(in.guest_image_version_file, guest, k_max_version); !why.empty())
      throw Error(Exit::usage, "invalid guest image version: " + why);
  }
  m.guest_image.version = guest.empty() ? "unknown" : guest;
  m.guest_image.digest_sha256 = digest_of(in.guest_image);
  if (!in.base_image.empty()) m.guest_image.base_image = in.base_image;
  m.guest_image.agent_version = in.agent_version.empty() ? m.release_version : in.agent_version;
  m.kernel.version = in.no_kernel ? "none" : in.kernel_version.empty() ? "unknown" : in.kernel_version;
  m.kernel.vmlinux_digest_sha256 = in.no_kernel ? "none" : digest_of(in.vmlinux);
  if (!in.vmlinux_pvm.empty()) {
    m.kernel.pvm_version = in.pvm_version.empty() ? "unknown" : in.pvm_version;
    m.kernel.vmlinux_pvm_digest_sha256 = digest_of(in.vmlinux_pvm);
  }
  return m;
}

std::string kernel_identity(const std::string& tag, const std::string& digest) {
  auto known = [](const std::string& s) { return s == "unknown" || s == "none" ? std::string() : s; };
  std::string t = known(tag), d = known(digest);
  if (!t.empty() && !d.empty()) return t + "@" + d;
  return t.empty() ? d : t;
}

ManifestPath manifest_path(const std::string& flag, const std::string& configured, const std::string& base) {
  if (!flag.empty()) return {flag, true};
  if (const char* env = std::getenv("CUBE_RELEASE_MANIFEST"); env && *env) return {env, true};
  if (!configured.empty()) return {configured, true};
  return {base + "/release-manifest.json", false};
}

}  // namespace cube::versions
