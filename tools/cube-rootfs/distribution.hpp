// cube::rootfs distribution — copies an artifact directory to node stores with 4 workers.
//
// Contract: each target gets `<dir>/<artifact_id>/` with the image (holes kept), files.jsonl and
// manifest.json, written as `.part` files and renamed, so a node never sees half an artifact. With
// `via` the command runs as `sh -c VIA cube-rootfs-copy SRC_DIR NODE DEST ADDRESS` for each node
// instead (rsync, scp; ADDRESS is the node's registered address, empty for a --to target): values
// reach it as arguments, never as text of the command. Exit 0 is success. A `local` target (this
// node, whose store holds the artifact) succeeds without a copy. on_result is called on the
// caller's thread, one target at a time, as each finishes.
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

// Copies one file keeping its holes (SEEK_DATA/SEEK_HOLE), to `dest`.part (part_file.hpp: one
// copier per destination, removed on any error) then renamed.
void copy_sparse(const std::string& src, const std::string& dest);

}  // namespace cube::rootfs
