// cube::logs::confine — loads the reader's seccomp allowlist (allowlist.hpp) once its files are
// open. The allowlist was compiled to BPF when cube-logs was built: building it with libseccomp at
// every start cost about 0.15 ms, a fifth of `cube-logs --tail 10`.
#pragma once

#include "allowlist.hpp"

namespace cube::logs {

void confine(Following following);

}  // namespace cube::logs
