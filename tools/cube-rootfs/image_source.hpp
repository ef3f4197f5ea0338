// cube::rootfs image sources: what an IMAGE argument names, resolved to an ordered list of layer
// blobs with the digest and size each must have.
//
// Contract:
// - `oci:DIR[:TAG]` (or a directory holding `oci-layout`): index.json → manifest (by the
//   org.opencontainers.image.ref.name annotation, or the only one) → config and layers; every JSON
//   blob is checked against its descriptor on read, layers later while streaming.
// - A file: a docker-archive (a tar with a top-level manifest.json, as `docker save` writes) whose
//   layers are checked against the config's diff_ids, else a single rootfs tar (gzip/zstd allowed).
// - `-`: standard input, copied first into `spool_dir` (a file removed when the source goes) because
//   the build reads the stream twice; then treated as a file.
// - Digests are only `sha256:<64 hex>`, so a descriptor cannot name a path outside the layout.
#pragma once

#include "archive_stream.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cube::rootfs {

enum class SourceType { oci, docker_archive, rootfs_tar };
std::string_view source_type_name(SourceType t);

struct LayerRef {
  std::string name;  // "layer 2 (sha256:ab12cd34ef56)", for errors and progress
  Expect expect;
  std::string file;          // the blob file, or the docker-archive holding it
  std::string outer_entry;   // docker-archive: the entry inside `file`
  uint64_t stored_size = 0;  // bytes as stored (compressed), when known
};

class TempFile {
 public:
  explicit TempFile(std::string path) : m_path(std::move(path)) {}
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

struct ImageSource {
  SourceType type = SourceType::rootfs_tar;
  std::string input;        // as the user gave it
  std::string digest;       // manifest digest (OCI), config digest (docker-archive), file digest (tar)
  std::string config_json;  // the image config, "" for a plain tar
  std::vector<LayerRef> layers;
  uint64_t stored_bytes = 0;  // sum of the layers as stored
  std::shared_ptr<TempFile> spool;
};

ImageSource resolve_source(const std::string& input, const std::string& spool_dir);
// Copies standard input to `path` (created 0600, must not exist).
void save_stdin(const std::string& path);

// An open layer stream: the file, and for docker-archive the outer reader positioned at the entry.
class LayerStream {
 public:
  explicit LayerStream(const LayerRef& layer);
  ByteSource& source() { return m_entry ? static_cast<ByteSource&>(*m_entry) : *m_file; }

 private:
  std::unique_ptr<FileSource> m_file;
  std::unique_ptr<TarReader> m_outer;
  std::unique_ptr<EntrySource> m_entry;
};

// The most one layer blob may hold as stored.
constexpr uint64_t k_max_layer_blob = uint64_t(64) << 30;

// Called in a catch block, for a layer that did not parse: it may simply not be the blob its
// descriptor names, so its digest is checked then, and a tampered blob is reported as one, not as
// whatever its bytes happen to break. Otherwise the exception being handled is rethrown.
[[noreturn]] void rethrow_checked(const LayerRef& layer);

// Checks a digest string; throws Error(usage) naming `what`.
void check_digest(std::string_view digest, std::string_view what);

}  // namespace cube::rootfs
