// cube::tap owner — who is changing a TAP row right now, so that another process can tell a change
// in progress (wait) from one whose process died (take over, or leave it to reconcile).
#pragma once

#include <string>
#include <string_view>

namespace cube::tap {

// This process: "pid:starttime" (the start time from /proc/self/stat tells a reused pid apart).
const std::string& self_owner();
// False when the process named by `owner` no longer runs ("" is nobody, so not alive).
bool owner_alive(std::string_view owner);

}  // namespace cube::tap
