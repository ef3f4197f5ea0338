// cube::tap lifecycle — ensure and release of one sandbox's network, safe against any number of
// processes doing the same at once and against a crash at any point.
//
// How: every state change is one BEGIN IMMEDIATE transaction. ensure first claims the sandbox in
// one transaction (its existence check and its claim are the same critical section, so two ensures
// of one sandbox cannot both build): a pooled TAP or a new address, and the host ports, recorded
// as 'creating' with this process as owner. The kernel work follows outside the lock, then a
// second transaction marks the row 'in_use'. Another process that finds a row mid-change waits
// while its owner lives, and takes the work over when the owner has died; reconcile does the same
// for rows nobody comes back to. release mirrors it through 'releasing'.
#pragma once

#include "datapath.hpp"
#include "netlink.hpp"
#include "plumbing.hpp"
#include "ports.hpp"
#include "settings.hpp"
#include "state.hpp"
#include "store.hpp"

#include <string>
#include <vector>

namespace cube::tap {

struct Env {
  state::Db& db;
  netlink::Socket& nl;
  Datapath& datapath;
  const Settings& settings;
};

enum class Origin { existing, pooled, fresh };
std::string_view origin_name(Origin o);

struct Ensured {
  TapRow tap;
  std::vector<PortRow> ports;
  Origin origin = Origin::existing;
};
Ensured ensure(Env& env, const std::string& sandbox, const std::vector<PortRequest>& ports);

enum class ReleaseOutcome { not_found, pooled, destroyed };
std::string_view outcome_name(ReleaseOutcome o);

struct Released {
  ReleaseOutcome outcome = ReleaseOutcome::not_found;
  std::string tap;
};
Released release(Env& env, const std::string& sandbox, bool destroy);

// Next-fit allocates an address and records its TAP as 'creating', owned by this process, for
// `sandbox` ("" for the pool); advances node.ipam_cursor. Inside the caller's transaction.
TapRow new_tap(state::Db& db, NodeRow& node, const std::string& sandbox);

// The kernel objects a TAP row stands for.
TapSpec spec_of(const TapRow& row, const NodeRow& node, const Settings& s);
SandboxTap sandbox_tap(const TapRow& row, const std::vector<PortRow>& ports);

}  // namespace cube::tap
