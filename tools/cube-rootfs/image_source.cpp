#include "image_source.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "sha256.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>

namespace cube::rootfs {
namespace {

using json = nlohmann::json;
constexpr uint64_t k_max_json = 4 << 20;
constexpr std::string_view k_ref_annotation = "org.opencontainers.image.ref.name";

// A blob or archive the build reads: a regular file (a FIFO would never end). A layout's blobs were
// checked by resolve_oci to be files inside it, not links.
Fd open_read(const std::string& path) { return fs::open_regular(path); }

// An OCI layout opened once: its files are read beneath it, no symbolic link followed, so an
// index.json or blob that is a link (to /etc/passwd, say) is refused, not read.
class Layout {
 public:
  explicit Layout(std::string dir) : m_dir(std::move(dir)) {
    m_fd = Fd(::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!m_fd)
      throw sys_error(errno, fmt::format("opening {}", m_dir), errno == ENOENT ? Exit::not_found : Exit::usage);
  }
  const std::string& dir() const { return m_dir; }
  std::string path(std::string_view rel) const { return fmt::format("{}/{}", m_dir, rel); }
  bool has(std::string_view rel) const {
    return ::faccessat(m_fd.get(), std::string(rel).c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  }
  Fd open(std::string_view rel, uint64_t max_bytes = UINT64_MAX) const {
    return fs::open_regular_beneath(m_fd.get(), rel, path(rel), max_bytes);
  }
  std::string read(std::string_view rel, uint64_t max_bytes) const {
    Fd fd = open(rel, max_bytes);
    return fs::read_fd(fd.get(), max_bytes, path(rel));
  }

 private:
  std::string m_dir;
  Fd m_fd;
};

json parse_json(const std::string& text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(Exit::usage, fmt::format("{} is not valid JSON", what), e.what());
  }
}

std::string short_digest(std::string_view d) { return std::string(d.substr(0, 7 + 12)); }

std::string str_field(const json& j, const char* key, std::string_view what) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    throw Error(Exit::usage, fmt::format("{}: \"{}\" is missing or not a string", what, key));
  return j[key].get<std::string>();
}

// --- OCI layout -----------------------------------------------------------------------------------

struct Descriptor {
  std::string media_type, digest;
  int64_t size = -1;
};

Descriptor descriptor(const json& j, std::string_view what) {
  Descriptor d;
  d.digest = str_field(j, "digest", what);
  check_digest(d.digest, what);
  if (!j.contains("size") || !j["size"].is_number_integer() || j["size"].get<int64_t>() < 0)
    throw Error(Exit::usage, fmt::format("{}: \"size\" is missing or negative", what));
  d.size = j["size"].get<int64_t>();
  if (j.contains("mediaType") && j["mediaType"].is_string()) d.media_type = j["mediaType"];
  return d;
}

std::string blob_rel(std::string_view digest) { return fmt::format("blobs/sha256/{}", digest.substr(7)); }

std::string read_blob(const Layout& layout, const Descriptor& d, std::string_view what) {
  if (static_cast<uint64_t>(d.size) > k_max_json)
    throw Error(Exit::usage, fmt::format("{} {} is {} bytes", what, short_digest(d.digest), d.size),
                fmt::format("the limit is {}", k_max_json));
  std::string text = layout.read(blob_rel(d.digest), k_max_json);
  if (static_cast<int64_t>(text.size()) != d.size || "sha256:" + sha256_hex(text) != d.digest)
    throw Error(Exit::usage, fmt::format("{} {} does not match its descriptor", what, short_digest(d.digest)),
                "the layout is corrupt or was tampered with");
  return text;
}

Descriptor pick_manifest(const json& index, const std::string& tag, std::string_view what) {
  if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].empty())
    throw Error(Exit::usage, fmt::format("{} lists no manifests", what));
  std::vector<std::string> tags;
  const json* chosen = nullptr;
  for (const auto& m : index["manifests"]) {
    std::string ref;
    if (m.contains("annotations") && m["annotations"].is_object() && m["annotations"].contains(k_ref_annotation) &&
        m["annotations"][k_ref_annotation].is_string())
      ref = m["annotations"][k_ref_annotation];
    tags.push_back(ref);
    if (!tag.empty() && ref == tag) chosen = &m;
  }
  if (tag.empty() && index["manifests"].size() == 1) chosen = &index["manifests"][0];
  if (!chosen)
    throw Error(Exit::not_found,
                tag.empty() ? fmt::format("{} holds {} images", what, tags.size())
                            : fmt::format("{} has no image tagged \"{}\"", what, tag),
                fmt::format("tags: {}", fmt::join(tags, ", ")), "name one as oci:DIR:TAG");
  return descriptor(*chosen, what);
}

// An image index inside the layout (multi-platform): the linux/amd64 entry, else the first.
Descriptor pick_platform(const json& index, std::string_view what) {
  const json& list = index["manifests"];
  if (!list.is_array() || list.empty()) throw Error(Exit::usage, fmt::format("{} lists no manifests", what));
  for (const auto& m : list)
    if (m.is_object() && m.contains("platform") && m["platform"].is_object() &&
        m["platform"].value("os", json()) == "linux" && m["platform"].value("architecture", json()) == "amd64")
      return descriptor(m, what);
  return descriptor(list[0], what);
}

ImageSource resolve_oci_layout(const std::string& dir, const std::string& tag, const std::string& input) {
  Layout layout(dir);
  if (!layout.has("oci-layout"))
    throw Error(Exit::not_found, fmt::format("{} is not an OCI image layout", dir), "it has no oci-layout file");
  json index = parse_json(layout.read("index.json", k_max_json), layout.path("index.json"));
  Descriptor md = pick_manifest(index, tag, layout.path("index.json"));
  json manifest = parse_json(read_blob(layout, md, "manifest"), "manifest");
  for (int depth = 0; manifest.is_object() && manifest.contains("manifests"); ++depth) {
    if (depth > 2) throw Error(Exit::usage, "image indexes nest too deeply");
    md = pick_platform(manifest, "image index");
    manifest = parse_json(read_blob(layout, md, "manifest"), "manifest");
  }
  if (!manifest.is_object()) throw Error(Exit::usage, "manifest is not a JSON object");
  ImageSource src;
  src.type = SourceType::oci;
  src.input = input;
  src.digest = md.digest;
  if (!manifest.contains("config")) throw Error(Exit::usage, "manifest has no config");
  src.config_json = read_blob(layout, descriptor(manifest["config"], "manifest config"), "config");
  if (!manifest.contains("layers") || !manifest["layers"].is_array())
    throw Error(Exit::usage, "manifest has no layers array");
  int i = 0;
  for (const auto& l : manifest["layers"]) {
    Descriptor d = descriptor(l, fmt::format("manifest layer {}", ++i));
    if (d.media_type.find("tar") == std::string::npos)
      throw Error(Exit::usage, fmt::format("layer {} has media type \"{}\"", i, d.media_type),
                  "only tar layers (plain, gzip or zstd) are supported");
    LayerRef ref;
    ref.name = fmt::format("layer {} ({})", i, short_digest(d.digest));
    ref.expect = {d.digest, d.size};
    layout.open(blob_rel(d.digest));  // a regular file inside the layout, checked before the build starts
    ref.file = layout.path(blob_rel(d.digest));
    ref.stored_size = static_cast<uint64_t>(d.size);
    src.stored_bytes += ref.stored_size;
    src.layers.push_back(std::move(ref));
  }
  return src;
}

// JSON of an unexpected shape (a string where an object belongs) is bad input, reported as such.
ImageSource resolve_oci(const std::string& dir, const std::string& tag, const std::string& input) {
  try {
    return resolve_oci_layout(dir, tag, input);
  } catch (const json::exception& e) {
    throw Error(Exit::usage, fmt::format("{}: a JSON file of the layout has an unexpected shape", dir), e.what());
  }
}

// --- docker-archive and plain tar -------------------------------------------------------------------

// Reads one named entry of a tar file fully (small JSON files only).
std::string read_entry(const std::string& file, const std::string& entry) {
  FileSource fsrc(open_read(file), file);
  TarReader tar(fsrc, file);
  Entry e;
  while (tar.next(e)) {
    if (e.path != entry && e.path != "./" + entry) {
      tar.skip_data();
      continue;
    }
    if (e.size > k_max_json) throw Error(Exit::usage, fmt::format("{}: {} is {} bytes", file, entry, e.size));
    std::string out;
    DataBlock b;
    while (tar.block(b)) out.append(static_cast<const char*>(b.data), b.size);
    return out;
  }
  throw Error(Exit::usage, fmt::format("{}: no entry \"{}\"", file, entry), "the docker-archive is incomplete");
}

bool has_top_manifest(const std::string& file) {
  FileSource fsrc(open_read(file), file);
  TarReader tar(fsrc, file);
  Entry e;
  // docker save writes manifest.json last, so the whole header list is read (cheap: data is skipped).
  for (int n = 0; tar.next(e) && n < 1'000'000; ++n) {
    if (e.path == "manifest.json" || e.path == "./manifest.json") return true;
    tar.skip_data();
  }
  return false;
}

// The names of the images a docker-archive's manifest.json lists (their first RepoTag, or their config).
std::vector<std::string> archive_images(const json& manifest) {
  std::vector<std::string> names;
  for (const auto& m : manifest) {
    const json tags = m.is_object() ? m.value("RepoTags", json()) : json();
    const json config = m.is_object() ? m.value("Config", json()) : json();
    if (tags.is_array() && !tags.empty() && tags[0].is_string())
      names.push_back(tags[0].get<std::string>());
    else
      names.push_back(config.is_string() ? config.get<std::string>() : "(unnamed)");
  }
  return names;
}

ImageSource resolve_docker_archive_json(const std::string& file, const std::string& input) {
  json manifest = parse_json(read_entry(file, "manifest.json"), "docker-archive manifest.json");
  if (!manifest.is_array() || manifest.empty())
    throw Error(Exit::usage, fmt::format("{}: manifest.json lists no images", file));
  if (manifest.size() > 1)
    throw Error(Exit::usage, fmt::format("{} holds {} images", file, manifest.size()),
                fmt::format("images: {}", fmt::join(archive_images(manifest), ", ")),
                "save one image per archive (docker save IMAGE), or give it as an OCI layout with oci:DIR:TAG");
  const json& m = manifest[0];
  std::string config_name = str_field(m, "Config", "manifest.json");
  ImageSource src;
  src.type = SourceType::docker_archive;
  src.input = input;
  src.config_json = read_entry(file, config_name);
  src.digest = "sha256:" + sha256_hex(src.config_json);
  json config = parse_json(src.config_json, "docker-archive config");
  json diff_ids = config.contains("rootfs") ? config["rootfs"].value("diff_ids", json::array()) : json::array();
  if (!m.contains("Layers") || !m["Layers"].is_array()) throw Error(Exit::usage, "manifest.json has no Layers");
  if (diff_ids.size() != m["Layers"].size())
    throw Error(Exit::usage,
                fmt::format("{}: {} layers but {} diff_ids in the config", file, m["Layers"].size(), diff_ids.size()));
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    std::string digest = diff_ids[i].is_string() ? diff_ids[i].get<std::string>() : "";
    check_digest(digest, fmt::format("config diff_id {}", i + 1));
    LayerRef ref;
    ref.name = fmt::format("layer {} ({})", i + 1, short_digest(digest));
    ref.expect = {digest, -1};
    ref.file = file;
    ref.outer_entry = m["Layers"][i].is_string() ? m["Layers"][i].get<std::string>() : "";
    src.layers.push_back(std::move(ref));
  }
  return src;
}

ImageSource resolve_docker_archive(const std::string& file, const std::string& input) {
  try {
    return resolve_docker_archive_json(file, input);
  } catch (const json::exception& e) {
    throw Error(Exit::usage, fmt::format("{}: manifest.json or the config has an unexpected shape", file), e.what());
  }
}

ImageSource resolve_file(const std::string& path, const std::string& input) {
  if (has_top_manifest(path)) return resolve_docker_archive(path, input);
  ImageSource src;
  src.type = SourceType::rootfs_tar;
  src.input = input;
  LayerRef ref;
  ref.name = "rootfs tar " + path;
  ref.file = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) ref.stored_size = static_cast<uint64_t>(st.st_size);
  src.stored_bytes = ref.stored_size;
  src.layers.push_back(std::move(ref));
  return src;
}

// The directory must exist: a mistyped --out or --work-dir is an error, not a new directory chain.
std::shared_ptr<TempFile> spool_stdin(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(Exit::not_found, fmt::format("directory {} does not exist", dir), "standard input is spooled there");
  auto tmp = std::make_shared<TempFile>(fmt::format("{}/stdin-{}.tar", dir, ids::random_hex24()));
  save_stdin(tmp->path());
  return tmp;
}

}  // namespace

std::string_view source_type_name(SourceType t) {
  switch (t) {
    case SourceType::oci: return "oci";
    case SourceType::docker_archive: return "docker-archive";
    case SourceType::rootfs_tar: return "tar";
  }
  return "?";
}

void save_stdin(const std::string& path) {
  Fd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) throw sys_error(errno, "creating " + path);
  FileSource in(Fd(::dup(STDIN_FILENO)), "standard input");
  const void* data;
  while (size_t n = in.read(&data)) {
    for (size_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), static_cast<const char*>(data) + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw sys_error(errno, "writing " + path);
      done += static_cast<size_t>(w);
    }
  }
}

TempFile::~TempFile() {
  if (!m_path.empty()) ::unlink(m_path.c_str());
}

void check_digest(std::string_view digest, std::string_view what) {
  bool ok = digest.size() == 71 && digest.starts_with("sha256:");
  for (size_t i = 7; ok && i < digest.size(); ++i)
    ok = std::isxdigit(static_cast<unsigned char>(digest[i])) && !std::isupper(static_cast<unsigned char>(digest[i]));
  if (!ok)
    throw Error(Exit::usage, fmt::format("{}: digest \"{:.80}\" is not sha256:<64 lowercase hex>", what, digest));
}

ImageSource resolve_source(const std::string& input, const std::string& spool_dir) {
  if (input.empty()) throw Error(Exit::usage, "IMAGE is empty");
  if (input == "-") {
    auto spool = spool_stdin(spool_dir);
    ImageSource src = resolve_file(spool->path(), input);
    src.spool = spool;
    return src;
  }
  if (input.starts_with("oci:")) {
    std::string rest = input.substr(4), tag;
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      tag = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
    return resolve_oci(rest, tag, input);
  }
  std::string path = input.starts_with("docker-archive:") ? input.substr(15) : input;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(Exit::not_found, fmt::format("image \"{}\" not found", input), errno_text(errno),
                "give oci:DIR[:TAG], a docker-archive or rootfs tar file, or - for standard input");
  if (S_ISDIR(st.st_mode)) return resolve_oci(path, "", input);
  return resolve_file(path, input);
}

LayerStream::LayerStream(const LayerRef& layer) {
  m_file = std::make_unique<FileSource>(open_read(layer.file), layer.file);
  if (layer.outer_entry.empty()) return;
  m_outer = std::make_unique<TarReader>(*m_file, layer.file);
  Entry e;
  while (m_outer->next(e)) {
    if (e.path == layer.outer_entry || e.path == "./" + layer.outer_entry) {
      m_entry = std::make_unique<EntrySource>(*m_outer);
      return;
    }
    m_outer->skip_data();
  }
  throw Error(Exit::usage, fmt::format("{}: {} has no entry \"{}\"", layer.name, layer.file, layer.outer_entry));
}

}  // namespace cube::rootfs

namespace cube::rootfs {

void rethrow_checked(const LayerRef& layer) {
  std::exception_ptr first = std::current_exception();
  if (!layer.expect.digest.empty()) {
    LayerStream stream(layer);
    Verifier verifier(stream.source(), layer.name, layer.expect, k_max_layer_blob);
    const void* d = nullptr;
    while (verifier.read(&d) > 0) {
    }
    verifier.finish();  // throws on a mismatch
  }
  std::rethrow_exception(first);
}

}  // namespace cube::rootfs
