#include "pool.hpp"

#include "error.hpp"
#include "log.hpp"
#include "node_setup.hpp"
#include "owner.hpp"

#include <fmt/format.h>

namespace cube::tap {
namespace {

constexpr int64_t k_max_warm = 16384;

std::vector<TapRow> claim_new(Env& env, int64_t target, NodeRow& node) {
  state::Transaction txn(env.db);
  node = require_node(env.db);
  int64_t need = target - count_in(env.db, TapState::pooled);
  std::vector<TapRow> rows;
  for (int64_t i = 0; i < need; ++i) rows.push_back(new_tap(env.db, node, ""));
  save_cursors(env.db, node.ipam_cursor, node.port_cursor);
  txn.commit();
  return rows;
}

void finish(Env& env, const std::vector<TapRow>& rows) {
  state::Transaction txn(env.db);
  for (auto row : rows) {
    row.state = TapState::pooled;
    row.owner.clear();
    update_tap(env.db, row);
  }
  txn.commit();
}

}  // namespace

PoolStatus pool_status(Env& env) {
  PoolStatus s;
  NodeRow node = require_node(env.db);
  s.pooled = count_in(env.db, TapState::pooled);
  s.in_use = count_in(env.db, TapState::in_use);
  s.changing = count_in(env.db, TapState::creating) + count_in(env.db, TapState::releasing);
  s.quarantined = count_in(env.db, TapState::quarantined);
  s.pool_max = env.settings.pool_max;
  s.addresses_total = node.cidr.last_index() - 1;
  s.addresses_used = s.pooled + s.in_use + s.changing + s.quarantined;
  return s;
}

size_t pool_warm(Env& env, int64_t target, const std::function<void(size_t, size_t)>& progress) {
  if (target < 0 || target > k_max_warm)
    throw Error(Exit::usage, fmt::format("invalid pool size {}", target), fmt::format("expected 0 to {}", k_max_warm));
  NodeRow node;
  std::vector<TapRow> rows = claim_new(env, target, node);
  std::vector<TapRow> built;
  try {
    for (auto& row : rows) {
      auto prepare = [&](int ifindex) { env.datapath.prepare(ifindex); };
      row.ifindex = build(env.nl, spec_of(row, node, env.settings), prepare).ifindex;
      built.push_back(row);
      if (progress) progress(built.size(), rows.size());
    }
  } catch (...) {
    // What was built is pooled; the rest is left 'creating' under a process about to exit, which
    // the next reconcile purges.
    finish(env, built);
    throw;
  }
  finish(env, built);
  return built.size();
}

size_t pool_shrink(Env& env, int64_t target) {
  if (target < 0) throw Error(Exit::usage, fmt::format("invalid pool size {}", target), "expected 0 or more");
  std::vector<std::string> names;
  {
    state::Transaction txn(env.db);
    auto pooled = taps_in(env.db, TapState::pooled);
    for (auto it = pooled.rbegin(); it != pooled.rend() && static_cast<int64_t>(pooled.size() - names.size()) > target;
         ++it) {
      it->state = TapState::releasing;
      it->destroy = true;
      it->owner = self_owner();
      update_tap(env.db, *it);
      names.push_back(it->name);
    }
    txn.commit();
  }
  if (names.empty()) return 0;
  destroy_batch(env.nl, names);
  state::Transaction txn(env.db);
  for (const auto& name : names) delete_tap(env.db, name);
  txn.commit();
  return names.size();
}

}  // namespace cube::tap
