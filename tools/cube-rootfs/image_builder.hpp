// cube::rootfs::build_image — image layers in, one ext4 file out, in two streaming passes.
//
// Pass 1 reads every layer's headers (seeking over data where the blob is uncompressed), two
// layers at once on threads of their own (layer_scan.hpp), and applies them in order to the
// metadata Tree. Sizing then knows the final tree, so the image is planned
// before a byte of it is written. Pass 2 creates the file system, writes the tree's metadata, and
// reads every blob whole through a Verifier (digest and size against the descriptor) while
// streaming each surviving regular file's bytes straight into the image. No extracted tree ever
// exists on disk. A gzip blob is inflated once, in pass 1, with ISA-L on a read-ahead thread (which
// reads, verifies and inflates while the scan parses and hashes its files); its inflated stream is
// kept in an unnamed file in `spool_dir` (layer_spool.hpp) and pass 2 reads that as plain tar.
//
// The image is written as `<output>.part` and renamed on success; on any error it is removed.
#pragma once

#include "image_source.hpp"
#include "layer_tree.hpp"
#include "sizing.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cube::rootfs {

struct AddFile {
  std::string src, dest;
  uint32_t mode = 0644;
};

struct BuildOptions {
  std::string output;          // the .ext4 file to create
  bool replace_output = true;  // false: one that appears while the image is built is kept (exit 4)
  std::string files_jsonl;     // where to write the per-file fingerprints; "" for none
  // Where gzip layers' inflated streams wait between the passes (layer_spool.hpp); "" for none.
  std::string spool_dir;
  SizeRequest size;
  Limits limits;
  std::vector<AddFile> add_files;
  // Extra content a caller adds to the tree before sizing (the CA bake); may be empty.
  // Returns how many files it wrote; the count comes back in BuildResult::edited.
  std::function<int(Tree&)> edit_tree;
  // Called with the planned file system once the tree is known, before anything is written
  // (the disk pre-check); may throw.
  std::function<void(const FsParams&)> before_write;
  bool dedup_hardlink = false;
  bool hash_image = true;  // the image file's own SHA-256 (an extra read of the image)
  // Called with a phase name and 0..100 while working.
  std::function<void(std::string_view, int)> progress;
};

struct BuildResult {
  std::string source_digest;
  std::vector<std::string> layer_digests;
  TreeStats stats;
  uint64_t image_bytes = 0;      // the file's size
  uint64_t allocated_bytes = 0;  // what it occupies on disk
  std::string image_sha256;
  uint64_t entries = 0;  // archive entries read in all layers
  uint64_t deduplicated = 0;
  int edited = 0;
};

BuildResult build_image(ImageSource& src, const BuildOptions& opt);

// SHA-256 of a file, reading only its data extents (holes hash as zeros).
std::string hash_sparse_file(const std::string& path);

// One line of files.jsonl per name in the tree, sorted by path (exposed for tests).
std::string files_jsonl(Tree& tree);

}  // namespace cube::rootfs
