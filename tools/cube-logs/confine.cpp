#include "confine.hpp"

#include "cube-logs-filter.hpp"  // generated from allowlist.cpp by gen/filter-gen.cpp

namespace cube::logs {

void confine(Following following) {
  if (following == Following::yes)
    seccomp::load_bpf(compiled::k_follower);
  else
    seccomp::load_bpf(compiled::k_reader);
}

}  // namespace cube::logs
