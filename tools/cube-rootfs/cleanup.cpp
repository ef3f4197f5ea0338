#include "cleanup.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "job_runner.hpp"
#include "lock_file.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

namespace cube::rootfs {
namespace {

constexpr int64_t k_incoming_grace_ms = 7LL * 24 * 3600 * 1000;  // as an unused artifact's deadline

std::string real(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

// The directory may go only when it is exactly <root>/<artifact_id> for a managed root.
bool own_directory(const std::string& dir, const std::string& id, const std::vector<std::string>& roots) {
  std::string d = real(dir);
  if (d.empty() || fs::basename(d) != id) return false;
  for (const auto& r : roots) {
    std::string rr = real(r);
    if (!rr.empty() && fs::dirname(d) == rr) return true;
  }
  return false;
}

// The template a file under <store>/.incoming/ was kept for: <id>.tar, <id>-auth.json, <id>-oci.
std::string incoming_owner(const std::string& name) {
  for (std::string_view suffix : {".tar", "-auth.json", "-oci"})
    if (name.size() > suffix.size() && name.ends_with(suffix)) return name.substr(0, name.size() - suffix.size());
  return "";
}

// What .incoming/ keeps for templates that are gone (deleted before their build was READY): a
// stdin copy or a pulled layout is kept for a redo, and nothing would remove it after a delete.
void gc_incoming(Catalog& cat, const std::string& store, int64_t grace_ms, bool dry_run, std::vector<GcItem>& out) {
  std::error_code ec;
  std::filesystem::directory_iterator it(store + "/.incoming", ec), end;
  int64_t now = time::now_ms();
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    std::string owner = incoming_owner(name);
    if (owner.empty() || cat.find_template(owner)) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    int64_t mtime_ms = static_cast<int64_t>(st.st_mtime) * 1000;
    if (now < mtime_ms + grace_ms) continue;
    GcItem item{"", "INCOMING", it->path(), S_ISDIR(st.st_mode) ? "removed directory" : "removed file",
                static_cast<int64_t>(st.st_size)};
    if (!dry_run) {
      std::error_code rc;
      std::filesystem::remove_all(it->path(), rc);
      if (rc) throw Error(Exit::failed, fmt::format("removing {}", it->path().string()), rc.message());
    }
    out.push_back(item);
  }
}

// Whether the template copies through a --via command (its targets are then not local paths).
bool via_of(Catalog& cat, const std::string& template_id) {
  auto t = cat.find_template(template_id);
  return t && !request_from_json(t->request_json).via.empty();
}

}  // namespace

std::vector<GcItem> clean_failed_copies(state::Db& db, const std::string& template_id, bool dry_run) {
  Catalog cat(db);
  std::vector<GcItem> out;
  std::vector<std::string> left;
  for (const ReplicaRow& r : cat.replicas_to_clean(template_id)) {
    std::string copy = r.target + "/" + r.artifact_id;
    GcItem item{r.artifact_id, "node " + r.node, copy, "", 0};
    std::error_code ec;
    if (via_of(cat, r.template_id) || r.target.empty() || r.artifact_id.empty()) {
      item.action = "artifact cleanup incomplete (a --via destination is not reachable from here)";
      left.push_back(r.node);
      out.push_back(item);
      continue;
    }
    if (!std::filesystem::is_directory(r.target, ec)) {
      item.action = "nothing left on the node";  // no store directory: the copy wrote nothing
    } else if (cat.copy_in_use(r)) {
      item.action = "kept (a READY replica uses it)";
    } else {
      item.action = "removed node copy";
      if (!dry_run) std::filesystem::remove_all(copy, ec);
      if (ec) {
        item.action = fmt::format("artifact cleanup incomplete ({})", ec.message());
        left.push_back(r.node);
        out.push_back(item);
        continue;
      }
    }
    if (!dry_run) cat.replica_cleaned(r.template_id, r.node);
    out.push_back(item);
  }
  if (!left.empty())
    log::warn("artifact cleanup incomplete: could not clean the failed copies on {}", fmt::join(left, ","));
  return out;
}

std::vector<GcItem> delete_template(state::Db& db, const std::string& template_id) {
  Catalog cat(db);
  if (!cat.find_template(template_id)) throw Error(Exit::not_found, fmt::format("template {} not found", template_id));
  auto last = cat.latest_job(template_id);
  if (last && last->status == "RUNNING" && runner_alive(*last))
    throw Error(Exit::conflict,
                fmt::format("job {} of {} is still running (pid {})", last->id, template_id, last->runner_pid));
  std::vector<GcItem> cleaned = clean_failed_copies(db, template_id, false);
  cat.delete_template(template_id);
  return cleaned;
}

namespace {

// gc's claim on an artifact it would remove: false when a job (or another gc) holds its lock;
// else true, with the lock in `lock` unless this is a dry run, which only looks.
bool claim(const ArtifactRow& a, bool dry_run, std::optional<fs::LockFile>& lock) {
  if (!fs::exists(a.store_dir)) return true;  // a job makes its store before it locks in it
  std::string path = artifact_lock_path(a.store_dir, a.id);
  if (dry_run) return !fs::LockFile::held(path);
  fs::make_dirs(fs::dirname(path), 0700);
  lock = fs::LockFile::try_take(path);
  return lock.has_value();
}

}  // namespace

std::vector<GcItem> gc(state::Db& db, const std::string& store, std::optional<int64_t> grace_ms, bool dry_run) {
  Catalog cat(db);
  int64_t now = time::now_ms();
  std::vector<GcItem> out = clean_failed_copies(db, "", dry_run);
  for (const auto& a : cat.artifacts()) {
    GcItem item{a.id, a.status, a.ext4_path, "", a.ext4_size};
    int64_t deadline = grace_ms ? a.created_ms + *grace_ms : a.gc_deadline_ms;
    if (cat.artifact_references(a.id) > 0) continue;
    if (a.status == "READY" && now < deadline) {
      item.action = fmt::format("kept until {}", time::rfc3339(deadline));
      out.push_back(item);
      continue;
    }
    std::string dir = a.ext4_path.empty() ? a.store_dir + "/" + a.id : fs::dirname(a.ext4_path);
    bool whole = own_directory(dir, a.id, {a.store_dir, store});
    item.action = whole ? "removed directory" : "removed file";
    std::optional<fs::LockFile> lock;
    if (!claim(a, dry_run, lock)) {
      item.action = "kept (a job or another gc holds it)";
      out.push_back(item);
      continue;
    }
    if (lock && cat.artifact_references(a.id) > 0) continue;  // a job reused it before the lock was ours
    if (!dry_run) {
      if (whole) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) throw Error(Exit::failed, fmt::format("removing {}", dir), ec.message());
      } else if (!a.ext4_path.empty() && ::unlink(a.ext4_path.c_str()) != 0 && errno != ENOENT) {
        throw sys_error(errno, "removing " + a.ext4_path);
      }
      cat.delete_artifact(a.id);
      if (lock) lock->remove();  // a job that waited for it builds the artifact afresh
    }
    out.push_back(item);
  }
  gc_incoming(cat, store, grace_ms.value_or(k_incoming_grace_ms), dry_run, out);
  return out;
}

}  // namespace cube::rootfs
