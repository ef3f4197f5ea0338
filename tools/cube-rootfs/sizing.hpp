// cube::rootfs sizing (doc/cube-rootfs.md, "Sizing"): how large the image file is and how many inodes it gets.
//
// Contract:
// - model: upstream's rule — data + fixed MiB + data × pct / 100 + 1 KiB per non-directory name,
//   at least 1 GiB, rounded up to 256 MiB. Knobs CUBE_EXT4_FIXED_OVERHEAD_MIB (> 0, default 256)
//   and CUBE_EXT4_OVERHEAD_PERCENT (1..20, default 10); other values are ignored with a warning.
// - exact: the smallest file system that holds the tree (data blocks, directory blocks, xattr and
//   symlink blocks, inode tables for exactly the inodes needed, a 4 MiB journal) plus `headroom`.
// - fixed: the size given; the file system must hold the tree, else Error(usage) before anything
//   is written.
// - Every plan is checked with the same capacity arithmetic libext2fs uses for the layout.
// - No image is larger than 16 TiB (a --size, --headroom or need beyond it is Error(usage), checked
//   before any arithmetic that could overflow). Sparse files' holes count for their size in the
//   model, not in the blocks needed; they may total 1 GiB, or beyond that 64 times the files' data
//   (Error(usage) otherwise), which bounds the work of hashing them.
#pragma once

#include "ext4_writer.hpp"
#include "layer_tree.hpp"

#include <cstdint>
#include <string>

namespace cube::rootfs {

enum class SizeMode { model, exact, fixed };

struct SizeRequest {
  SizeMode mode = SizeMode::model;
  uint64_t fixed_bytes = 0;
  uint64_t headroom = 0;
};

struct ModelKnobs {
  uint64_t fixed_mib = 256;
  uint64_t percent = 10;
};
// The holes that `data_bytes` of real data may come with: 1 GiB, or 64 times the data beyond that.
// Whatever hashes file content (convert, inspect --content) reads holes as zeros; this bounds it.
uint64_t hole_allowance(uint64_t data_bytes);

// Reads the CUBE_EXT4_* knobs from the environment, warning about ignored values.
ModelKnobs model_knobs_from_env();

uint64_t model_bytes(const TreeStats& st, const ModelKnobs& knobs);
// Blocks the tree needs besides the file system's own metadata.
uint64_t needed_blocks(const TreeStats& st);
// Blocks left for files in a file system of `bytes` with `inodes` inodes and a journal.
uint64_t capacity_blocks(uint64_t bytes, uint64_t inodes, uint32_t journal_blocks);

FsParams plan_size(const TreeStats& st, const SizeRequest& req, const ModelKnobs& knobs);

}  // namespace cube::rootfs
