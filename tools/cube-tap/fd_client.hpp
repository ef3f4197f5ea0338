// cube::tap fd client — asks `cube-tap serve` for a sandbox's TAP fd (`cube-tap get-fd`).
#pragma once

#include "fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cube::tap {

struct ReceivedFd {
  Fd fd;
  int ifindex = 0;
};

// Connects to `socket`, sends the request and waits up to timeout_ms for the reply and its fd.
// A server error becomes Error: exit 3 when the sandbox is not found, 2 for a request the server
// could not parse, 4 when another process holds the TAP, 1 otherwise; the server's words are kept.
ReceivedFd request_fd(const std::string& socket, const std::string& sandbox, const std::string& name,
                      int64_t timeout_ms);

// Puts `fd` at descriptor 3 without close-on-exec, sets CUBE_TAP_FD=3 (and CUBE_TAP_IFINDEX), and
// execs argv[0] with argv, searching PATH. Returns only by throwing.
[[noreturn]] void exec_with_fd(ReceivedFd received, const std::vector<std::string>& argv);

}  // namespace cube::tap
