// cube::logs::read — the reader: `cube-logs read SANDBOX`, also `cube-logs SANDBOX`
// (doc/cube-logs.md, "Reading").
//
// Contract:
// - Finds `<root>/<id>/<stream>` (and its rotated files). Root: --root, else [logs] root /
//   template_root in the config, else the upstream defaults below. The ID is path-safe (exit 2).
// - With a mount namespace file (mount_ns.hpp resolves the flag and config), enters it before
//   opening anything, keeping the working directory's path.
// - Opens everything, then (unless no_seccomp) loads the seccomp allowlist, then selects and prints.
// - Selection: --since/--until bound the records by time (binary search); then --tail N (the last
//   N lines of the window), --head N (the first N) or --all. Nothing set: the last 100 lines, or
//   the whole window when --since/--until is given.
#pragma once

#include "printer.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cube::logs {

inline constexpr const char* k_sandbox_root = "/data/cubelet/state/io.containerd.runtime.v2.task/default";
inline constexpr const char* k_template_root = "/data/log/template";
inline constexpr uint64_t k_default_tail = 100;

enum class Pick { tail, head, all };

struct ReadOptions {
  std::string id;
  bool template_mode = false;
  std::string root;
  Pick pick = Pick::tail;
  uint64_t count = k_default_tail;
  std::string stream = "stdout";  // stdout, stderr or all
  std::optional<int64_t> since_ns, until_ns;
  bool follow = false;
  Style style;
  bool seccomp = true;
  std::string mount_ns;  // a namespace file, already resolved
};

// "--since"/"--until" values: RFC 3339, or a duration back from now ("10m"). Throws Error(usage).
int64_t parse_time_arg(const std::string& text, const char* flag, int64_t now_ns);

void read(const ReadOptions& options);

}  // namespace cube::logs
