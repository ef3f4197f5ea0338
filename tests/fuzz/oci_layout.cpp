// libFuzzer target: an OCI layout's JSON — index.json, the manifest (or a nested image index) and
// the config — through cube-rootfs's source resolution. The input is three parts split by NUL
// bytes: index.json, the manifest blob, the config blob. In index.json "@MD" becomes the manifest's
// digest and "@MS" its size; in the manifest "@CD"/"@CS" the config's. Bad input must end as
// cube::Error, never a crash.
#include "cube-rootfs/image_source.hpp"
#include "error.hpp"
#include "scratch.hpp"
#include "sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

void put(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
}

const std::string& layout_dir() {
  static const std::string dir = [] {
    std::string d = cube::fuzz::scratch_path("oci-layout");
    ::mkdir(d.c_str(), 0755);
    ::mkdir((d + "/blobs").c_str(), 0755);
    ::mkdir((d + "/blobs/sha256").c_str(), 0755);
    put(d + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t pos = 0; parts.size() < 2;) {
    size_t nul = in.find('\0', pos);
    if (nul == std::string::npos) break;
    parts.push_back(in.substr(pos, nul - pos));
    pos = nul + 1;
    if (parts.size() == 2) parts.push_back(in.substr(pos));
  }
  if (parts.size() < 3) parts.resize(3);
  if (parts[0].empty() && parts[1].empty()) parts[0] = in;
  std::string &index = parts[0], &manifest = parts[1], &config = parts[2];
  const std::string& dir = layout_dir();
  std::string cd = cube::sha256_hex(config);
  replace_all(manifest, "@CD", "sha256:" + cd);
  replace_all(manifest, "@CS", std::to_string(config.size()));
  std::string md = cube::sha256_hex(manifest);
  replace_all(index, "@MD", "sha256:" + md);
  replace_all(index, "@MS", std::to_string(manifest.size()));
  put(dir + "/index.json", index);
  put(dir + "/blobs/sha256/" + md, manifest);
  put(dir + "/blobs/sha256/" + cd, config);
  try {
    (void)cube::rootfs::resolve_source("oci:" + dir, "");
  } catch (const cube::Error&) {
  }
  ::unlink((dir + "/blobs/sha256/" + md).c_str());
  ::unlink((dir + "/blobs/sha256/" + cd).c_str());
  return 0;
}
