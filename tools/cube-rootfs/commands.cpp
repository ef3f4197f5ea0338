#include "commands.hpp"

#include "build_child.hpp"
#include "error.hpp"
#include "ext4_lister.hpp"
#include "fs.hpp"
#include "image_builder.hpp"
#include "log.hpp"
#include "output.hpp"
#include "units.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace cube::rootfs::cmd {
namespace {

SizeRequest parse_size_flags(const ImageFlags& f) {
  SizeRequest r;
  if (f.size == "model") {
    r.mode = SizeMode::model;
  } else if (f.size == "exact") {
    r.mode = SizeMode::exact;
  } else {
    r.mode = SizeMode::fixed;
    r.fixed_bytes = units::parse_size(f.size, "--size");
    if (r.fixed_bytes < (8u << 20))
      throw Error(Exit::usage, fmt::format("--size {} is too small", f.size), "the smallest image is 8M");
  }
  r.headroom = units::parse_size(f.headroom, "--headroom");
  if (r.headroom > 0 && r.mode != SizeMode::exact)
    throw Error(Exit::usage, "--headroom applies only with --size exact");
  return r;
}

AddFile parse_add_file(const std::string& spec) {
  // SRC:DEST[:MODE]; the mode is octal.
  size_t a = spec.find(':');
  if (a == std::string::npos || a == 0 || a + 1 >= spec.size())
    throw Error(Exit::usage, fmt::format("--add-file \"{}\" is not SRC:DEST[:MODE]", spec));
  AddFile f;
  f.src = spec.substr(0, a);
  std::string rest = spec.substr(a + 1);
  size_t b = rest.rfind(':');
  if (b != std::string::npos) {
    std::string mode = rest.substr(b + 1);
    char* end = nullptr;
    unsigned long m = std::strtoul(mode.c_str(), &end, 8);
    if (mode.empty() || *end || m > 07777)
      throw Error(Exit::usage, fmt::format("--add-file \"{}\": mode \"{}\" is not octal 0..7777", spec, mode));
    f.mode = static_cast<uint32_t>(m);
    rest = rest.substr(0, b);
  }
  if (rest.empty() || rest[0] != '/')
    throw Error(Exit::usage, fmt::format("--add-file \"{}\": DEST must be an absolute path in the image", spec));
  f.dest = rest;
  return f;
}

}  // namespace

void require_dir(const std::string& dir, std::string_view what) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw Error(Exit::not_found, fmt::format("{} {} does not exist", what, dir), errno_text(errno),
                "create it first; it is never created for you");
  if (!S_ISDIR(st.st_mode)) throw Error(Exit::usage, fmt::format("{} {} is not a directory", what, dir));
}

std::function<void(std::string_view, int)> progress_bar() {
  if (!::isatty(STDERR_FILENO)) return {};
  return [](std::string_view phase, int pct) {
    pct = std::clamp(pct, 0, 100);
    fmt::print(stderr, "\r{:<14} [{:<20}] {:3}%{}", phase, std::string(pct / 5, '#'), pct, pct >= 100 ? "\n" : "");
    std::fflush(stderr);
  };
}

BuildOptions build_options(const ImageFlags& f) {
  BuildOptions o;
  o.size = parse_size_flags(f);
  for (const auto& s : f.add_files) o.add_files.push_back(parse_add_file(s));
  o.dedup_hardlink = f.dedup_hardlink;
  o.limits.max_entries = f.max_entries;
  o.progress = progress_bar();
  return o;
}

void convert(cli::Context& ctx, const ConvertArgs& a) {
  BuildOptions o = build_options(a.image_flags);
  o.output = a.out;
  o.replace_output = false;  // checked here, and again when the image is renamed into place
  o.files_jsonl = a.files;
  o.hash_image = a.hash_image;
  if (fs::exists(a.out)) throw Error(Exit::conflict, fmt::format("{} already exists", a.out), "", "remove it first");
  require_dir(fs::dirname(a.out), "the directory of --out");
  if (!a.image_flags.work_dir.empty()) require_dir(a.image_flags.work_dir, "--work-dir");
  std::string spool = a.image_flags.work_dir.empty() ? fs::dirname(a.out) : a.image_flags.work_dir;
  ImageSource src = resolve_source(a.image, spool);
  o.spool_dir = spool;
  Isolation iso{!a.image_flags.no_seccomp, {fs::dirname(a.out), spool}, {}};
  if (!a.files.empty()) iso.writable_dirs.push_back(fs::dirname(a.files));
  for (const auto& l : src.layers) iso.readable_paths.push_back(l.file);
  for (const auto& f : o.add_files) iso.readable_paths.push_back(f.src);
  BuildResult r = build_isolated(src, o, iso);
  output::Table t({{"image", "Image"},
                   {"source_type", "Source type"},
                   {"source_digest", "Source digest"},
                   {"layers", "Layers", output::Align::right},
                   {"entries", "Entries read", output::Align::right},
                   {"inodes", "Inodes", output::Align::right},
                   {"data_bytes", "Data bytes", output::Align::right},
                   {"image_bytes", "Image bytes", output::Align::right},
                   {"allocated_bytes", "Allocated bytes", output::Align::right},
                   {"deduplicated", "Deduplicated", output::Align::right},
                   {"image_sha256", "Image SHA-256"}});
  output::Cell sha = r.image_sha256.empty() ? output::Cell() : output::Cell(r.image_sha256);
  t.add({a.out, std::string(source_type_name(src.type)), r.source_digest, static_cast<int64_t>(src.layers.size()),
         r.entries, r.stats.inodes, r.stats.data_bytes, r.image_bytes, r.allocated_bytes, r.deduplicated, sha});
  output::print_record(t, ctx.format());
}

void inspect(cli::Context& ctx, const InspectArgs& a) {
  auto entries = list_image(a.file, a.content);
  output::Table t({{"path", "Path"},
                   {"type", "Type"},
                   {"mode", "Mode"},
                   {"uid", "UID", output::Align::right},
                   {"gid", "GID", output::Align::right},
                   {"size", "Size", output::Align::right},
                   {"nlink", "Links", output::Align::right},
                   {"ino", "Inode", output::Align::right},
                   {"mtime", "Mtime"},
                   {"target", "Target"},
                   {"rdev", "Device"},
                   {"xattrs", "Xattrs"},
                   {"sha256", "SHA-256"}});
  for (const auto& e : entries) {
    std::string xattrs;
    for (const auto& [k, v] : e.xattrs) xattrs += (xattrs.empty() ? "" : ",") + k + "=" + v;
    std::string rdev = e.type == "char" || e.type == "block" ? fmt::format("{}:{}", e.rdev_major, e.rdev_minor) : "";
    t.add({e.path, e.type, fmt::format("{:04o}", e.mode), e.uid, e.gid, e.size, e.nlink, e.ino,
           fmt::format("{}.{:09}", e.mtime_sec, e.mtime_nsec), e.target, rdev, xattrs, e.sha256});
  }
  output::print(t, ctx.format());
}

}  // namespace cube::rootfs::cmd
