// cube::fs — file system helpers that are safe with paths a sandbox or an archive may influence.
#pragma once

#include "fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cube::fs {

std::string dirname(std::string_view path);
// The working directory's path, or "" when it cannot be named (deleted, or longer than PATH_MAX).
std::string current_dir();
std::string basename(std::string_view path);

// mkdir -p with `mode` for the directories it creates; existing ones are left as they are.
void make_dirs(const std::string& path, unsigned mode);

// Opens `relative` beneath the directory `base_fd` without following any symbolic link and without
// leaving the directory (`..`, absolute paths and magic links are refused): openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or, on kernels without openat2, a
// walk of the components with O_NOFOLLOW that refuses `..` and absolute paths itself. `flags` are
// open(2) flags (O_CLOEXEC is always added). Returns an invalid Fd with errno set on failure.
Fd open_beneath(int base_fd, std::string_view relative, int flags, unsigned mode = 0);
// The per-component fallback alone, so tests can exercise it on kernels that have openat2.
Fd open_beneath_walk(int base_fd, std::string_view relative, int flags, unsigned mode = 0);

// Opens a file the user named (an argument, a flag, a blob in an image layout) for reading, as a
// regular file only: O_NONBLOCK, so that opening a FIFO cannot block, then fstat. A missing file
// throws Error(not_found); a FIFO, device, directory or socket Error(usage) saying what it is; with
// max_bytes, a larger file Error(usage). `flags` adds open(2) flags (O_NOFOLLOW). The descriptor
// is returned in blocking mode.
Fd open_regular(const std::string& path, uint64_t max_bytes = UINT64_MAX, int flags = 0);
// The same for `relative` beneath the directory `base_fd` (open_beneath: no symbolic link followed,
// no way out of the directory; such a path throws Error(usage)). `shown` names it in messages.
Fd open_regular_beneath(int base_fd, std::string_view relative, const std::string& shown,
                        uint64_t max_bytes = UINT64_MAX);

// Whole-file read with a limit; throws Error (naming the file) when it is missing, unreadable or
// larger than max_bytes.
std::string read_file(const std::string& path, uint64_t max_bytes);

// Reads a stream (stdin, a pipe) to its end; throws Error(usage) naming `what` when it holds more
// than max_bytes, so a runaway producer cannot exhaust memory.
std::string read_fd(int fd, uint64_t max_bytes, std::string_view what);

// Writes `data` to `path` atomically: a temp file in the same directory with `mode`, fsync, rename,
// then fsync of the directory. Readers see the old file or the new one, never a part.
void atomic_write(const std::string& path, std::string_view data, unsigned mode);

struct SpaceInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // to an unprivileged user
  int64_t fs_type = 0;           // statfs f_type magic
  bool network = false;          // NFS, CIFS/SMB or FUSE: write elsewhere and move in
};
SpaceInfo space(const std::string& path);

bool exists(const std::string& path);

}  // namespace cube::fs
