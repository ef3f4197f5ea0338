#include "inventory.hpp"

#include "labels.hpp"

#include <algorithm>

namespace cube::sched {

Inventory::Inventory(const std::vector<NodeRow>& rows, Policy policy, int64_t now_ms)
    : m_policy(std::move(policy)), m_now_ms(now_ms) {
  for (auto [alias, full] : k_canonical_labels) m_columns[std::string(full)];
  for (const auto& key : m_policy.selector_keys) m_columns[key];
  for (auto& [key, col] : m_columns) col.value_of.assign(rows.size(), 0);
  m_ids.reserve(rows.size());
  m_nodes.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Registration& reg = rows[i].reg;
    m_ids.push_back(reg.id);
    m_nodes.push_back(state_of(rows[i], now_ms));
    m_hot.push_back(hot_of(m_nodes.back()));
    for (const auto& [key, value] : reg.labels) add_label(key, i, value);
    // Canonical labels come last so that they win over registered ones of the same name.
    for (const auto& [key, value] :
         canonical_labels(reg.zone, reg.cluster_id, reg.cpu_type, reg.mem_bytes, reg.cpu_m, reg.instance_type))
      add_label(key, i, value);
  }
  for (size_t i = 0; i < m_ids.size(); ++i) m_index.emplace(m_ids[i], i);
}

void Inventory::add_label(std::string_view key, size_t node, const std::string& value) {
  auto it = m_columns.find(std::string(key));
  if (it == m_columns.end()) return;  // not selectable: placement never looks at it
  LabelColumn& c = it->second;
  auto [pos, added] = c.ids.emplace(value, static_cast<uint32_t>(c.values.size()));
  if (added) {
    c.values.push_back(value);
    c.quantities.push_back(parse_quantity(value));
  }
  c.value_of[node] = pos->second;
}

HotNode Inventory::hot_of(const NodeState& n) const {
  HotNode h;
  h.free_cpu = n.eff_cpu - n.alloc_cpu;
  h.free_mem = n.eff_mem - n.alloc_mem;
  h.mem_room = n.mem_free - n.mem_reserve;
  h.eff_cpu = n.eff_cpu;
  h.eff_mem = n.eff_mem;
  h.eligible = n.health == health::Reason::none && !n.cordoned && n.sandboxes < n.max_sandboxes &&
               n.creating < m_policy.create_limit && n.cpu_util < m_policy.cpu_util_ceiling &&
               n.disk_used < m_policy.disk_ceiling;
  return h;
}

NodeState Inventory::state_of(const NodeRow& row, int64_t now_ms) const {
  NodeState n;
  const Registration& reg = row.reg;
  Ratios r = m_policy.ratios_for(reg.instance_type);
  n.cpu_quota = reg.cpu_m;
  n.mem_quota = reg.mem_bytes;
  n.cpu_ratio = r.cpu;
  n.mem_ratio = r.mem;
  n.eff_cpu = effective_quota(reg.cpu_m, r.cpu);
  n.eff_mem = effective_quota(reg.mem_bytes, r.mem);
  n.recorded_cpu = row.alloc_cpu_m;
  n.recorded_mem = row.alloc_mem;
  n.alloc_cpu = m_policy.ignore_recorded_allocations ? 0 : row.alloc_cpu_m;
  n.alloc_mem = m_policy.ignore_recorded_allocations ? 0 : row.alloc_mem;
  n.sandboxes = row.sandboxes;
  n.max_sandboxes = reg.max_sandboxes > 0 ? reg.max_sandboxes : m_policy.max_sandboxes;
  n.cpu_util = row.cpu_util;
  n.mem_free = row.mem_free;
  n.mem_reserve = m_policy.mem_reserve_for(reg.instance_type, reg.mem_bytes);
  n.disk_used = row.disk_used;
  n.creating = row.creating;
  n.heartbeat_ms = row.heartbeat_ms;
  n.ready = row.ready;
  n.health = health::evaluate(row.heartbeat_ms, row.ready, now_ms, m_policy.heartbeat_timeout_ms).reason;
  n.cordoned = row.cordoned;
  return n;
}

Heartbeat Inventory::heartbeat(size_t i) const {
  const NodeState& n = m_nodes[i];
  return {n.heartbeat_ms, n.ready, n.cpu_util, n.mem_free, n.disk_used};
}

std::optional<size_t> Inventory::index_of(std::string_view id) const {
  auto it = m_index.find(id);
  if (it == m_index.end()) return std::nullopt;
  return it->second;
}

const LabelColumn* Inventory::column(std::string_view full_key) const {
  auto it = m_columns.find(std::string(full_key));
  return it == m_columns.end() ? nullptr : &it->second;
}

const std::string* Inventory::label(const LabelColumn& c, size_t i) const {
  uint32_t v = c.value_of[i];
  return v == 0 ? nullptr : &c.values[v];
}

void Inventory::refresh(size_t i, const std::optional<NodeRow>& row, int64_t now_ms) {
  if (!row) {
    m_nodes[i].gone = true;
    m_nodes[i].health = health::Reason::heartbeat_expired;
  } else {
    m_nodes[i] = state_of(*row, now_ms);
  }
  m_hot[i] = hot_of(m_nodes[i]);
}

void Inventory::add_allocation(size_t i, int64_t cpu_m, int64_t mem_bytes) {
  NodeState& n = m_nodes[i];
  n.recorded_cpu += cpu_m;
  n.recorded_mem += mem_bytes;
  if (!m_policy.ignore_recorded_allocations) {
    n.alloc_cpu += cpu_m;
    n.alloc_mem += mem_bytes;
  }
  ++n.sandboxes;
  ++n.creating;
  m_hot[i] = hot_of(n);
}

}  // namespace cube::sched
