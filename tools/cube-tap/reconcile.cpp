#include "reconcile.hpp"

#include "error.hpp"
#include "log.hpp"
#include "node_setup.hpp"
#include "owner.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <map>

namespace cube::tap {
namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

struct Planned {
  PlanItem item;
  std::optional<TapRow> row;  // as planned; the action re-checks it
  std::optional<netlink::Link> link;
};

Planned plan_row(Env& env, const NodeRow& node, const TapRow& row, const std::optional<netlink::Link>& link) {
  Planned p{{row.name, row.sandbox_id, std::string(state_name(row.state)), "keep", "", true}, row, link};
  auto set = [&](const char* action, std::string reason) {
    p.item.action = action;
    p.item.reason = std::move(reason);
  };
  bool mid_change = row.state == TapState::creating || row.state == TapState::releasing;
  if (row.state == TapState::quarantined) {
    set("keep", fmt::format("quarantined: {}", row.last_error));
  } else if (mid_change && owner_alive(row.owner)) {
    set("keep", "being changed by a live process");
  } else if (mid_change) {
    bool usable = link && !row.destroy;
    set(usable ? "repool" : "purge",
        fmt::format("its {} died mid-{}", row.owner.empty() ? "process" : "process " + row.owner,
                    row.state == TapState::creating ? "ensure" : "release"));
  } else if (!link) {
    set("purge", "the device is gone");
  } else if (auto wrong = check(env.nl, spec_of(row, node, env.settings)); !wrong.empty()) {
    set("repair", join(wrong));
  }
  return p;
}

Planned plan_orphan(const NodeRow& node, const netlink::Link& link, uint32_t address) {
  Planned p{{link.name, "", "-", "adopt", "a TAP of ours without a row", true}, std::nullopt, link};
  if (link.kind != "tun") {
    p.item.action = "keep";
    p.item.reason = "named like ours but not a TAP; left alone";
  } else if (!node.cidr.index_of(address)) {
    p.item.action = "purge";
    p.item.reason = fmt::format("its address is outside {}", node.cidr.text());
  }
  return p;
}

// Is the row still as planned? Another process may have changed it since.
std::optional<TapRow> still(Env& env, const TapRow& planned) {
  auto now = tap_by_name(env.db, planned.name);
  if (!now || now->state != planned.state || now->owner != planned.owner || now->sandbox_id != planned.sandbox_id)
    return std::nullopt;
  return now;
}

void purge(Env& env, const Planned& p) {
  if (p.row) {
    state::Transaction txn(env.db);
    if (!still(env, *p.row)) return;
    TapRow mine = *p.row;
    mine.state = TapState::releasing;
    mine.owner = self_owner();
    mine.destroy = true;
    update_tap(env.db, mine);
    txn.commit();
  }
  destroy(env.nl, p.item.tap);
  if (!p.row) return;
  state::Transaction txn(env.db);
  delete_tap(env.db, p.item.tap);
  txn.commit();
}

// The full build when the device is free (it also sets the vnet header and offloads a crash may
// have missed); only the netlink half when a VMM holds it.
void restore(Env& env, const TapSpec& spec, const netlink::Link& link, bool full) {
  if (full) {
    try {
      build(env.nl, spec);
      return;
    } catch (const Error& e) {
      if (e.code() != Exit::conflict) throw;
    }
  }
  configure(env.nl, spec, link);
}

void repair(Env& env, const NodeRow& node, const Planned& p, bool to_pool) {
  TapRow row = *p.row;
  auto link = env.nl.link(row.name);
  if (!link) throw Error(Exit::failed, fmt::format("TAP {} is gone", row.name));
  restore(env, spec_of(row, node, env.settings), *link, to_pool);
  state::Transaction txn(env.db);
  auto now = still(env, row);
  if (!now) return;
  now->ifindex = link->ifindex;
  now->failures = 0;
  now->last_error.clear();
  now->last_stage = "reconcile";
  if (to_pool) {
    delete_ports(env.db, row.name);
    now->state = TapState::pooled;
    now->sandbox_id.clear();
    now->owner.clear();
    now->destroy = false;
  }
  update_tap(env.db, *now);
  txn.commit();
}

void adopt(Env& env, const NodeRow& node, const Planned& p) {
  uint32_t address = *tap_address(p.item.tap);
  TapRow row;
  row.name = p.item.tap;
  row.address = address;
  row.index = *node.cidr.index_of(address);
  row.state = TapState::pooled;
  row.last_stage = "reconcile";
  row.created_ms = row.updated_ms = time::now_ms();
  auto link = env.nl.link(row.name);
  if (!link) return;  // gone since the plan: a release destroyed it
  restore(env, spec_of(row, node, env.settings), *link, true);
  row.ifindex = link->ifindex;
  state::Transaction txn(env.db);
  if (tap_by_name(env.db, row.name)) return;  // recorded since the plan
  insert_tap(env.db, row);
  txn.commit();
}

// A failed repair counts; the third quarantines the TAP.
void count_failure(Env& env, const Planned& p, const std::string& error) {
  if (!p.row) return;
  state::Transaction txn(env.db);
  auto now = still(env, *p.row);
  if (!now) return;
  now->failures += 1;
  now->last_error = error.substr(0, 500);
  now->last_stage = "reconcile";
  if (now->failures >= k_quarantine_after) now->state = TapState::quarantined, now->owner.clear();
  update_tap(env.db, *now);
  txn.commit();
}

void apply(Env& env, const NodeRow& node, Planned& p) {
  try {
    if (p.item.action == "purge")
      purge(env, p);
    else if (p.item.action == "repair")
      repair(env, node, p, false);
    else if (p.item.action == "repool")
      repair(env, node, p, true);
    else if (p.item.action == "adopt")
      adopt(env, node, p);
  } catch (const Error& e) {
    p.item.ok = false;
    p.item.reason += "; failed: " + e.message();
    count_failure(env, p, e.message());
    if (p.row && p.row->failures + 1 >= k_quarantine_after) p.item.action = "quarantine";
  }
}

}  // namespace

std::vector<PlanItem> reconcile(Env& env, bool dry_run) {
  NodeRow node = require_node(env.db);
  // Links before rows: a row always exists before its device, so a device seen without a row
  // really has none (adopt checks once more).
  std::map<std::string, netlink::Link> ours;
  for (auto& link : env.nl.links())
    if (tap_address(link.name)) ours.emplace(link.name, link);
  std::vector<Planned> plan;
  for (const auto& row : all_taps(env.db)) {
    auto it = ours.find(row.name);
    plan.push_back(plan_row(env, node, row, it == ours.end() ? std::nullopt : std::optional(it->second)));
    if (it != ours.end()) ours.erase(it);
  }
  for (const auto& [name, link] : ours) plan.push_back(plan_orphan(node, link, *tap_address(name)));
  std::vector<PlanItem> out;
  for (auto& p : plan) {
    if (!dry_run && p.item.action != "keep") apply(env, node, p);
    out.push_back(p.item);
  }
  if (!dry_run) {
    // After a reboot the BPF file system is empty: load the programs again before filling maps.
    env.datapath.setup(node_net(env.nl, node));
    std::vector<SandboxTap> in_use;
    for (const auto& row : taps_in(env.db, TapState::in_use))
      in_use.push_back(sandbox_tap(row, ports_of(env.db, row.name)));
    env.datapath.reconcile(in_use);
  }
  return out;
}

}  // namespace cube::tap
