// cube::tap pool — TAPs built ahead of need, so that ensure only has to claim one. The pool is
// FIFO: the TAP that waited longest is handed out first, so a released address rests longest.
#pragma once

#include "lifecycle.hpp"

#include <cstdint>
#include <functional>

namespace cube::tap {

struct PoolStatus {
  int64_t pooled = 0, in_use = 0, changing = 0, quarantined = 0;
  int64_t pool_max = 0;
  uint32_t addresses_total = 0;
  int64_t addresses_used = 0;
};
PoolStatus pool_status(Env& env);

// Builds TAPs until `target` are pooled; returns how many it built. `progress(done, total)`.
size_t pool_warm(Env& env, int64_t target, const std::function<void(size_t, size_t)>& progress);
// Destroys pooled TAPs (newest first) until at most `target` remain, in one batched netlink
// delete; returns how many went.
size_t pool_shrink(Env& env, int64_t target);

}  // namespace cube::tap
