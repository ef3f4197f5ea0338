// cube::rootfs::build_isolated — runs build_image in a child process so that the archive parsing
// can be locked down (seccomp) without taking exec, sockets and the state file from the parent.
//
// Contract: the child dies with the parent (PR_SET_PDEATHSIG), reports progress and the result or
// the Error over a pipe, and the parent rethrows the child's Error with its exit code. A child
// that dies without a report (a signal, the OOM killer) is Error(failed) naming the signal.
#pragma once

#include "image_builder.hpp"

#include <string>
#include <vector>

namespace cube::rootfs {

struct Isolation {
  bool seccomp = true;
  std::vector<std::string> writable_dirs;   // where the child may create files (store, work dir)
  std::vector<std::string> readable_paths;  // the image files it reads
};

BuildResult build_isolated(ImageSource& src, const BuildOptions& opt, const Isolation& iso);

}  // namespace cube::rootfs
