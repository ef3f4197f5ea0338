#include "lifecycle.hpp"

#include "error.hpp"
#include "log.hpp"
#include "node_setup.hpp"
#include "owner.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <net/if.h>

namespace cube::tap {
namespace {

enum class Step { done, wait, build };

struct Claim {
  Step step = Step::wait;
  TapRow tap;
  Origin origin = Origin::existing;
  std::string busy_owner;  // whose change we wait for
  NodeRow node;
};

// Allocates and records the host ports of `tap` (inside the caller's transaction).
void allocate_ports(state::Db& db, NodeRow& node, const TapRow& tap, const std::vector<PortRequest>& wanted) {
  std::set<uint32_t> reserved;
  bool reserved_read = false;
  for (const auto& w : wanted) {
    uint32_t host = w.host_port;
    if (host != 0) {
      if (port_taken(db, host))
        throw Error(Exit::conflict, fmt::format("host port {} is already mapped", host), "",
                    "choose another or leave HOST out");
    } else {
      if (!reserved_read) reserved = reserved_ports(), reserved_read = true;
      auto p = next_port(node.port_cursor, port_scan(db), reserved);
      if (!p)
        throw Error(Exit::conflict, "no free host port",
                    fmt::format("host ports {}-{} are all mapped or reserved", k_port_min, k_port_max));
      host = node.port_cursor = *p;
    }
    insert_port(db, {host, tap.name, tap.sandbox_id, w.container_port, "tcp"});
  }
}

}  // namespace

TapRow new_tap(state::Db& db, NodeRow& node, const std::string& sandbox) {
  auto index = next_index(node.cidr, node.ipam_cursor, index_scan(db));
  if (!index)
    throw Error(Exit::conflict, "no free sandbox address",
                fmt::format("all {} addresses of {} are in use", node.cidr.last_index() - 1, node.cidr.text()),
                "release sandboxes, or shrink the pool");
  node.ipam_cursor = *index;
  TapRow row;
  row.address = node.cidr.address(*index);
  row.index = *index;
  row.name = tap_name(row.address);
  row.sandbox_id = sandbox;
  row.state = TapState::creating;
  row.owner = self_owner();
  row.last_stage = "ensure";
  row.created_ms = row.updated_ms = time::now_ms();
  insert_tap(db, row);
  return row;
}

namespace {

Claim claim_for_ensure(Env& env, const std::string& sandbox, const std::vector<PortRequest>& ports) {
  state::Transaction txn(env.db);
  NodeRow node = require_node(env.db);
  Claim c{Step::build, {}, Origin::fresh, {}, node};
  if (auto row = tap_by_sandbox(env.db, sandbox)) {
    if (row->state == TapState::in_use) return {Step::done, *row, Origin::existing, {}, {}};
    if (owner_alive(row->owner)) return {Step::wait, *row, Origin::existing, row->owner, {}};
    // Its owner died mid-change: take the work over, from the start of an ensure.
    log::info("taking over sandbox {} from a process that is gone ({})", sandbox, row->owner);
    delete_ports(env.db, row->name);
    c.tap = *row;
    c.origin = Origin::fresh;  // built again in full: we cannot know how far it got
  } else if (auto pooled = oldest_pooled(env.db)) {
    c.tap = *pooled;
    c.origin = Origin::pooled;
  } else {
    c.tap = new_tap(env.db, node, sandbox);
  }
  c.tap.sandbox_id = sandbox;
  c.tap.state = TapState::creating;
  c.tap.owner = self_owner();
  c.tap.destroy = false;
  c.tap.last_stage = "ensure";
  update_tap(env.db, c.tap);
  allocate_ports(env.db, node, c.tap, ports);
  save_cursors(env.db, node.ipam_cursor, node.port_cursor);
  txn.commit();
  c.node = node;
  return c;
}

// The kernel side, programs and map entries included: a pooled TAP is already whole (one lookup
// proves it is still there); anything else is built in full, which also repairs what a crashed
// process left half done. Sets tap.ifindex.
void build_kernel(Env& env, const NodeRow& node, TapRow& tap, Origin origin, const std::vector<PortRow>& ports) {
  auto attach = [&](int ifindex) {
    tap.ifindex = ifindex;
    env.datapath.attach(sandbox_tap(tap, ports));
  };
  TapSpec spec = spec_of(tap, node, env.settings);
  if (origin == Origin::pooled) {
    auto link = env.nl.link(tap.name);
    if (link && link->kind == "tun" && (link->flags & IFF_UP)) return attach(link->ifindex);
  }
  build(env.nl, spec, attach);
}

void undo_ensure(Env& env, const TapRow& tap, Origin origin) {
  try {
    bool keep = origin == Origin::pooled && env.nl.link(tap.name).has_value();
    if (!keep) destroy(env.nl, tap.name);
    state::Transaction txn(env.db);
    delete_ports(env.db, tap.name);
    if (keep) {
      TapRow back = tap;
      back.sandbox_id.clear();
      back.state = TapState::pooled;
      back.owner.clear();
      update_tap(env.db, back);
    } else {
      delete_tap(env.db, tap.name);
    }
    txn.commit();
  } catch (const Error& e) {
    log::warn("undoing the ensure of {} failed, cube-tap reconcile will finish it: {}", tap.name, e.message());
  }
}

template <typename ClaimFn>
Claim wait_for_claim(Env& env, const std::string& sandbox, ClaimFn claim) {
  int64_t deadline = time::steady_ms() + env.settings.ensure_wait_ms;
  int64_t pause = 2;
  for (;;) {
    Claim c = claim();
    if (c.step != Step::wait) return c;
    if (time::steady_ms() >= deadline)
      throw Error(Exit::conflict, fmt::format("sandbox {} is being changed by another process", sandbox),
                  fmt::format("process {} has held it for {} ms", c.busy_owner.substr(0, c.busy_owner.find(':')),
                              env.settings.ensure_wait_ms));
    time::sleep_ms(pause);
    pause = std::min<int64_t>(pause * 2, 50);
  }
}

}  // namespace

std::string_view origin_name(Origin o) {
  switch (o) {
    case Origin::existing: return "existing";
    case Origin::pooled: return "pooled";
    case Origin::fresh: return "fresh";
  }
  return "?";
}

std::string_view outcome_name(ReleaseOutcome o) {
  switch (o) {
    case ReleaseOutcome::not_found: return "not_found";
    case ReleaseOutcome::pooled: return "pooled";
    case ReleaseOutcome::destroyed: return "destroyed";
  }
  return "?";
}

TapSpec spec_of(const TapRow& row, const NodeRow& node, const Settings& s) {
  return {row.name, row.address, node.mtu, s.gateway_mac, s.guest.mac};
}

SandboxTap sandbox_tap(const TapRow& row, const std::vector<PortRow>& ports) {
  SandboxTap t{row.sandbox_id, row.name, row.ifindex, row.address, {}};
  for (const auto& p : ports) t.ports.push_back({p.container_port, p.host_port});
  return t;
}

Ensured ensure(Env& env, const std::string& sandbox, const std::vector<PortRequest>& ports) {
  Claim c = wait_for_claim(env, sandbox, [&] { return claim_for_ensure(env, sandbox, ports); });
  if (c.step == Step::done) return {c.tap, ports_of(env.db, c.tap.name), Origin::existing};
  std::vector<PortRow> mapped;
  try {
    mapped = ports_of(env.db, c.tap.name);
    build_kernel(env, c.node, c.tap, c.origin, mapped);
  } catch (...) {
    undo_ensure(env, c.tap, c.origin);
    throw;
  }
  state::Transaction txn(env.db);
  c.tap.state = TapState::in_use;
  c.tap.owner.clear();
  c.tap.failures = 0;
  c.tap.last_error.clear();
  update_tap(env.db, c.tap);
  txn.commit();
  return {c.tap, std::move(mapped), c.origin};
}

Released release(Env& env, const std::string& sandbox, bool destroy_it) {
  auto claim = [&]() -> Claim {
    state::Transaction txn(env.db);
    auto row = tap_by_sandbox(env.db, sandbox);
    if (!row) return {Step::done, {}, Origin::existing, {}, {}};
    bool mid_change = row->state == TapState::creating || row->state == TapState::releasing;
    if (mid_change && owner_alive(row->owner)) return {Step::wait, *row, Origin::existing, row->owner, {}};
    // A TAP a dead ensure left half-built is not worth pooling; nor is one beyond the pool's size.
    // Releases in progress count too: each decides in its own transaction, but pools later.
    int64_t pooled = count_pool_bound(env.db, row->name);
    row->destroy = destroy_it || row->state == TapState::creating || pooled >= env.settings.pool_max;
    row->state = TapState::releasing;
    row->owner = self_owner();
    row->last_stage = "release";
    update_tap(env.db, *row);
    txn.commit();
    return {Step::build, *row, Origin::existing, {}, {}};
  };
  Claim c = wait_for_claim(env, sandbox, claim);
  if (c.step == Step::done) return {ReleaseOutcome::not_found, {}};
  env.datapath.detach(sandbox_tap(c.tap, ports_of(env.db, c.tap.name)));
  bool keep = !c.tap.destroy && env.nl.link(c.tap.name).has_value();
  if (!keep) destroy(env.nl, c.tap.name);
  state::Transaction txn(env.db);
  delete_ports(env.db, c.tap.name);
  if (keep) {
    c.tap.sandbox_id.clear();
    c.tap.state = TapState::pooled;
    c.tap.owner.clear();
    update_tap(env.db, c.tap);
  } else {
    delete_tap(env.db, c.tap.name);
  }
  txn.commit();
  return {keep ? ReleaseOutcome::pooled : ReleaseOutcome::destroyed, c.tap.name};
}

}  // namespace cube::tap
