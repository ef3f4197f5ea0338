// cube::egress enforce — makes the kernel's `inet cube_egress` table match the state file: which
// address belongs to which sandbox (cube-tap's taps), and each sandbox's compiled policy.
//
// Contract:
// - Every change is one libnftables transaction (ruleset.hpp), seen whole or not at all.
// - An address is bound when an in_use TAP holds it and its sandbox has a policy; it then carries
//   that policy. Any other address has no objects of its own and gets the default policy (internet
//   allowed, private ranges denied). An address's learned set is emptied when its owner, or the
//   names its owner's policy learns for, changed since the last render.
// - apply_sandbox renders the sandbox's address and every address the kernel still records as the
//   sandbox's (after a release, that one falls back to what the state file says of it now).
//   apply_all renders every address the state file or the kernel knows, and removes the objects of
//   the others. reconcile lists what differs from the state file, and unless dry_run fixes it with
//   apply_all's transaction.
// - The caller holds a write Transaction on the state file, so that renders do not interleave with
//   each other or with cube-tap moving an address.
#pragma once

#include "compiled.hpp"
#include "kernel_table.hpp"
#include "nft.hpp"
#include "ruleset.hpp"
#include "state.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct EnforceEnv {
  state::Db& db;
  nft::Context& nft;
  ruleset::Ports ports;
  CompileOptions compile;
};

struct Applied {
  uint32_t address = 0;
  std::string sandbox;              // the TAP's sandbox now, "" when the address is free
  std::optional<int64_t> revision;  // the policy's; nullopt: default policy
  size_t allow = 0, deny = 0;       // intervals in the sets
  bool l7 = false, dns_learning = false;
  std::string learned;  // "kept", "emptied", or "" (no learned set)
};

struct Drift {
  std::string object;  // the nft object: "chain forward", "set a_c0a80002_allow", "table"
  std::optional<uint32_t> address;
  std::string sandbox;  // the address's owner by the state file
  std::string problem;
};

std::vector<Applied> apply_sandbox(EnforceEnv& env, const std::string& sandbox);
std::vector<Applied> apply_all(EnforceEnv& env);
// Returns what differed (before any fix).
std::vector<Drift> reconcile(EnforceEnv& env, bool dry_run);
// Removes the whole table; false when there was none.
bool teardown(nft::Context& nft);

}  // namespace cube::egress
