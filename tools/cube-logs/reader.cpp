#include "reader.hpp"

#include "chain.hpp"
#include "confine.hpp"
#include "error.hpp"
#include "follow.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "log.hpp"
#include "mount_ns.hpp"
#include "output.hpp"
#include "scan.hpp"
#include "timeutil.hpp"
#include "units.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <unistd.h>
#include <cerrno>
#include <limits>
#include <optional>

namespace cube::logs {
namespace {

struct Place {
  Fd root, dir;
  std::string dir_path;
  std::string missing_why;
};

Place open_place(const ReadOptions& o) {
  Place p;
  p.dir_path = fmt::format("{}/{}", o.root, o.id);
  p.missing_why = o.template_mode ? "" : "sandbox may not exist or log forwarding may not be enabled";
  auto missing = [&] {
    return Error(Exit::not_found,
                 fmt::format("log file not found: {}/{}", p.dir_path, o.stream == "stderr" ? "stderr" : "stdout"),
                 p.missing_why);
  };
  // The root is the operator's (it may be a symlink, like /data on some hosts); below it nothing is
  // followed.
  p.root.reset(::open(o.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!p.root && errno == ENOENT) throw missing();
  if (!p.root) throw sys_error(errno, fmt::format("cannot open the log root {}", o.root));
  p.dir = fs::open_beneath(p.root.get(), o.id, O_PATH | O_DIRECTORY);
  if (!p.dir && errno == ENOENT) throw missing();
  if (!p.dir)
    throw Error(Exit::failed, fmt::format("refusing to read {}", p.dir_path), errno_text(errno),
                errno == ELOOP || errno == ENOTDIR ? "the log directory may not be a symbolic link" : "");
  return p;
}

struct Window {
  uint64_t begin = 0, end = 0;
};

Window window(const Chain& chain, const ReadOptions& o, Lines lines) {
  Window w{0, chain.size()};
  auto align = [&](uint64_t pos) { return lines == Lines::logical ? line_start(chain, 0, pos, chain.size()) : pos; };
  if (o.since_ns) w.begin = align(time_bound(chain, 0, w.end, *o.since_ns));
  if (o.until_ns && *o.until_ns < std::numeric_limits<int64_t>::max())
    w.end = std::max(w.begin, align(time_bound(chain, w.begin, w.end, *o.until_ns + 1)));
  return w;
}

// True when --since/--until are given and `chain` has a record older than one before it (a clock
// stepped back under a writer that did not hold its times): then the bounds cannot be searched for.
bool out_of_order(const Chain& chain, const ReadOptions& o) {
  if (!o.since_ns && !o.until_ns) return false;
  uint64_t at = first_out_of_order(chain, 0, chain.size());
  if (at == chain.size()) return false;
  log::warn(
      "{} and its rotated files are not in time order (the record at byte {} of them is older than one "
      "before it, as after a clock step): --since/--until test every line instead of searching",
      chain.current().path, at);
  return true;
}

// --since/--until over records out of order: every logical line tested, then the last/first N of
// those kept.
void print_filtered(const Chain* out, const Chain* err, const ReadOptions& o) {
  TimeFilter f{o.since_ns, o.until_ns};
  const Chain* first = out ? out : err;
  Range a{first, 0, first->size()};
  Range b = out && err ? Range{err, 0, err->size()} : Range{first, first->size(), first->size()};
  uint64_t skip = 0, take = std::numeric_limits<uint64_t>::max();
  if (o.pick != Pick::all) take = o.count;
  if (o.pick == Pick::tail) {
    uint64_t total = count_lines(a, f) + count_lines(b, f);
    skip = total > o.count ? total - o.count : 0;
  }
  print_merged(a, b, o.style, skip, take, f);
}

void print_one(const Chain& chain, const ReadOptions& o) {
  Lines lines = o.style.raw ? Lines::stored : Lines::logical;
  Window w = window(chain, o, lines);
  if (o.pick == Pick::tail) w.begin = tail_start(chain, w.begin, w.end, o.count, lines);
  if (o.pick == Pick::head) w.end = head_end(chain, w.begin, w.end, o.count, lines);
  print_range(chain, w.begin, w.end, o.style);
}

// --stream all: each stream's window narrowed to its own last/first N lines, then merged by time.
void print_both(const Chain& out, const Chain& err, const ReadOptions& o) {
  Window a = window(out, o, Lines::logical), b = window(err, o, Lines::logical);
  uint64_t skip = 0, take = std::numeric_limits<uint64_t>::max();
  if (o.pick == Pick::tail) {
    a.begin = tail_start(out, a.begin, a.end, o.count, Lines::logical);
    b.begin = tail_start(err, b.begin, b.end, o.count, Lines::logical);
    uint64_t total = count_lines({&out, a.begin, a.end}) + count_lines({&err, b.begin, b.end});
    skip = total > o.count ? total - o.count : 0;
    take = o.count;
  } else if (o.pick == Pick::head) {
    a.end = head_end(out, a.begin, a.end, o.count, Lines::logical);
    b.end = head_end(err, b.begin, b.end, o.count, Lines::logical);
    take = o.count;
  }
  print_merged({&out, a.begin, a.end}, {&err, b.begin, b.end}, o.style, skip, take);
}

}  // namespace

int64_t parse_time_arg(const std::string& text, const char* flag, int64_t now_ns) {
  int64_t t = 0;
  if (time::parse_rfc3339(text, t)) return t;
  if (!text.empty() && text[0] >= '0' && text[0] <= '9' && text.find_first_of("-:T") == std::string::npos) {
    int64_t ms = units::parse_duration_ms(text, flag);
    if (ms > std::numeric_limits<int64_t>::max() / 1'000'000)  // nanoseconds would overflow
      throw Error(Exit::usage, fmt::format("{} \"{}\" is too far back", flag, text), "at most 106751d");
    return now_ns - ms * 1'000'000;
  }
  throw Error(Exit::usage, fmt::format("{} \"{}\" is not a time", flag, text),
              "give RFC 3339 (2026-11-29T19:48:53Z, 2026-11-29T21:48:53.5+02:00) or a duration back from now (10m)");
}

void read(const ReadOptions& o) {
  // The scans and the printer each take a 1 MiB buffer in turn. Kept in the heap instead of being
  // mapped and unmapped each time, the second one reuses the pages the first one faulted in.
  ::mallopt(M_MMAP_THRESHOLD, 16 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
  ids::check(o.id, o.template_mode ? "template ID" : "sandbox ID");
  if (!o.mount_ns.empty()) enter_mount_ns(o.mount_ns);
  Place place = open_place(o);
  std::optional<Chain> out, err;
  if (o.stream != "stderr") out = open_chain(place.dir.get(), place.dir_path, "stdout", place.missing_why);
  if (o.stream != "stdout") err = open_chain(place.dir.get(), place.dir_path, "stderr", place.missing_why);
  std::optional<Follower> follower;
  if (o.follow) {
    follower.emplace(place.dir.get(), place.dir_path, o.style);
    if (out) follower->add("stdout", *out);
    if (err) follower->add("stderr", *err);
  }
  if (o.seccomp) confine(o.follow ? Following::yes : Following::no);
  bool unordered = (out && out_of_order(*out, o)) | (err && out_of_order(*err, o));
  if (unordered)
    print_filtered(out ? &*out : nullptr, err ? &*err : nullptr, o);
  else if (out && err)
    print_both(*out, *err, o);
  else
    print_one(out ? *out : *err, o);
  std::vector<std::string> problems;
  for (const auto* c : {out ? &*out : nullptr, err ? &*err : nullptr})
    if (c) problems.insert(problems.end(), c->problems().begin(), c->problems().end());
  if (follower) {
    for (const auto& p : problems) log::warn("{}", p);
    follower->run();
  }
  if (problems.empty()) return;
  // What could be read is printed; what may be missing is said last, where it is seen, and the
  // status says the log is not whole.
  output::flush();
  for (const auto& p : problems) log::warn("{}", p);
  throw Error(Exit::failed, fmt::format("the log of {} is incomplete", o.id), "see the warnings above");
}

}  // namespace cube::logs
