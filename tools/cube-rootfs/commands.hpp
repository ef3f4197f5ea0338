// cube::rootfs commands: each verb's handler, between the CLI (main.cpp) and the modules. Handlers
// turn flags into module options, call the modules and print through common/output.
#pragma once

#include "cli.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cube::rootfs {

// Flags every verb that builds an image shares (convert, build).
struct ImageFlags {
  std::string size = "model";
  std::string headroom = "0";
  std::vector<std::string> add_files;
  bool dedup_hardlink = false;
  uint64_t max_entries = 2'000'000;
  std::string work_dir;
  bool no_seccomp = false;
};
void add_image_flags(CLI::App* app, ImageFlags& f);
// The BuildOptions those flags ask for (size, headroom, extra files, dedup, limits, progress bar).
struct BuildOptions;
// A one-line progress bar on stderr when it is a TTY; empty otherwise.
std::function<void(std::string_view, int)> progress_bar();
BuildOptions build_options(const ImageFlags& f);

struct ConvertArgs {
  std::string image, out, files;
  bool hash_image = false;
  ImageFlags image_flags;
};
void run_convert(cli::Tool& tool, const ConvertArgs& a);

struct InspectArgs {
  std::string file;
  bool content = false;
};
void run_inspect(cli::Tool& tool, const InspectArgs& a);

}  // namespace cube::rootfs
