// cube::rootfs distribution — copies an artifact directory to node stores with 4 workers.
//
// Contract: each target gets `<dir>/<artifact_id>/` with the image (holes kept), files.jsonl and
// manifest.json, written as `.part` files and renamed, so a node never sees half an artifact. With
// `via` the command runs as `sh -c VIA cube-rootfs-copy SRC_DIR NODE DEST` for each node instead
// (rsync, scp); exit 0 is success. on_result is called on the caller's thread, one target at a
// time, as each finishes.
#pragma once

#include "request.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cube::rootfs {

inline constexpr int k_distribution_workers = 4;

struct CopyResult {
  Target target;
  bool ok = false;
  std::string error;
};

void distribute_artifact(const std::string& artifact_dir, const std::string& artifact_id,
                         const std::vector<Target>& targets, const std::string& via,
                         const std::function<void(const CopyResult&)>& on_result);

// Copies one file keeping its holes (SEEK_DATA/SEEK_HOLE), to `dest`.part then renamed.
void copy_sparse(const std::string& src, const std::string& dest);

}  // namespace cube::rootfs
