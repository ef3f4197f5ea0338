// cube::rootfs cleanup (doc/cube-rootfs.md, "Cleanup"): template deletion and artifact garbage
// collection.
//
// Contract:
// - delete_template removes the template with its jobs and replica rows, after the parts its
//   failed copies left on nodes; a template whose job is
//   running in a live process is refused (exit 4). Its artifact stays for gc.
// - gc first cleans every failed copy (clean_failed_copies), then removes every artifact that no
//   template references and that is not READY or whose deadline (7 days after last use, or
//   `grace`) has passed, unless a job holds its lock (artifact_lock_path; kept, said so), and
//   with it its lock file: the row, and the files — the whole
//   directory only when it is exactly `<managed root>/<artifact_id>` (the artifact's own store or
//   `store`), otherwise just the image file. It also removes what `store`/.incoming/ keeps (a
//   stdin copy, a pulled layout) for a template that no longer exists, once older than `grace`
//   (default 7 days).
#pragma once

#include "catalog.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cube::rootfs {

struct GcItem {
  std::string artifact_id, status, path, action;  // action: "removed dir", "removed file", "kept (…)"
  int64_t bytes = 0;
};

// What a failed copy left on a node (replicas with cleanup_required): `<target>/<artifact_id>`
// removed when the target is a local directory and no READY replica on that node uses the same
// copy. A copy that cannot be reached (a --via destination, an error) stays flagged; a warning
// "artifact cleanup incomplete" names its nodes. Of one template, or ("") of all.
std::vector<GcItem> clean_failed_copies(state::Db& db, const std::string& template_id, bool dry_run);

// Cleans the template's failed copies (above), then deletes it.
std::vector<GcItem> delete_template(state::Db& db, const std::string& template_id);
std::vector<GcItem> gc(state::Db& db, const std::string& store, std::optional<int64_t> grace_ms, bool dry_run);

}  // namespace cube::rootfs
