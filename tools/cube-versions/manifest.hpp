// The release manifest: what a release declares, read by collect and matrix and written by
// `cube-versions manifest` (doc/cube-versions.md, "The release manifest").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cube::versions {

struct ComponentEntry {
  std::string version;
  std::string commit;
  std::string build_time;
  std::string digest_sha256;  // "sha256:<hex>", or empty when the component has no file
};

struct GuestImage {
  std::string version = "unknown";
  std::string digest_sha256;
  std::string base_image = "cube-sandbox-guest-image:one-click";
  std::string agent_version;
};

struct Kernel {
  std::string version = "unknown";
  std::string vmlinux_digest_sha256;
  std::string pvm_version;  // both PVM fields only when a PVM kernel exists
  std::string vmlinux_pvm_digest_sha256;
};

struct Manifest {
  std::string release_version;
  std::string built_at;
  std::string built_by;
  std::string git_commit;
  std::map<std::string, ComponentEntry> components;  // sorted by name
  GuestImage guest_image;
  Kernel kernel;
};

// Parses manifest JSON. Throws Error(usage) naming `where` and the field on a wrong shape, a
// missing release_version, or a string over its limit.
Manifest parse_manifest(std::string_view text, const std::string& where);
// Reads and parses a manifest file (at most 1 MiB).
Manifest read_manifest(const std::string& path);
// Pretty JSON, two-space indent, trailing newline.
std::string render_manifest(const Manifest& m);

// What `cube-versions manifest` is built from.
struct ManifestInputs {
  std::string bin_dir;  // every cube-* binary here becomes a component
  std::string release_version;
  std::string guest_image_version;       // or read from guest_image_version_file
  std::string guest_image_version_file;  // first line, white space removed
  std::string guest_image;               // image file to digest
  std::string base_image;
  std::string agent_version;  // default: the release version
  std::string kernel_version;
  std::string vmlinux;  // file to digest
  std::string pvm_version;
  std::string vmlinux_pvm;
  bool no_kernel = false;  // a release without a kernel, declared: its fields read "none"
};
// Error(usage) when the kernel image is missing and not declared absent, or when a version holds a
// control character (a newline would break every line-based reader of the matrix).
Manifest build_manifest(const ManifestInputs& in);

// "tag@digest", the digest alone, the tag alone, or "" — `unknown` and `none` parts count as empty.
std::string kernel_identity(const std::string& tag, const std::string& digest);

// The manifest path: flag, then $CUBE_RELEASE_MANIFEST, then the config value, then
// <base>/release-manifest.json. `named` says whether a person chose it (flag, env or config).
struct ManifestPath {
  std::string path;
  bool named = false;
};
ManifestPath manifest_path(const std::string& flag, const std::string& configured, const std::string& base);

}  // namespace cube::versions
