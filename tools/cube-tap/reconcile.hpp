// cube::tap reconcile — makes the kernel and the state file agree after a crash, a reboot or a
// hand edit. For each TAP row and each 'z'+hex TAP in the kernel, one action:
//
//   keep        row and device agree
//   repair      the device exists but its MTU, MAC, link state, route or neighbour is wrong
//   adopt       a TAP of ours in the kernel without a row: recorded as pooled (its address was free)
//   repool      a change whose process died, left a usable TAP: repaired and pooled
//   purge       a row without its device (the address is freed), or a change that died beyond
//               use, or a TAP outside the CIDR: row and device removed
//   quarantine  a repair failed for the third time: the TAP and its address are never reused
//
// Rows another live process is changing are left to it. Each action is its own transaction,
// checked again against the row inside it, so reconcile can run beside ensure and release.
#pragma once

#include "lifecycle.hpp"

#include <string>
#include <vector>

namespace cube::tap {

inline constexpr int k_quarantine_after = 3;

struct PlanItem {
  std::string tap;
  std::string sandbox;
  std::string state;  // the row's state before ("-" for a TAP without a row)
  std::string action;
  std::string reason;
  bool ok = true;  // false when the action failed (it counts towards quarantine)
};

// Works out the plan and, unless dry_run, carries it out. Items whose action is "keep" are
// included, so the plan lists every TAP.
std::vector<PlanItem> reconcile(Env& env, bool dry_run);

}  // namespace cube::tap
