// cube::sched::Inventory — the nodes as placement sees them, loaded once and kept in memory.
//
// Why: a control plane places at rate, so a decision must not parse strings. At load, every label
// a selector may name (the six canonical keys and the configured extras) is interned per key into a
// column of value IDs, one per node, and each distinct value's quantity is parsed once. Capacity is
// stored already multiplied by the node's overcommit ratios. Nodes are kept in ID (byte) order, so
// "lowest index" is "lowest ID" when scores tie.
#pragma once

#include "health.hpp"
#include "policy.hpp"
#include "quantity.hpp"
#include "registry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cube::sched {

// What the filters read for one node; alloc_* are zero when recorded allocations are ignored.
struct NodeState {
  int64_t cpu_quota = 0, mem_quota = 0;
  double cpu_ratio = 0, mem_ratio = 0;
  int64_t eff_cpu = 0, eff_mem = 0;
  int64_t alloc_cpu = 0, alloc_mem = 0;
  int64_t recorded_cpu = 0, recorded_mem = 0;
  int64_t sandboxes = 0, max_sandboxes = 0;
  double cpu_util = 0;
  int64_t mem_free = 0, mem_reserve = 0;
  double disk_used = 0;
  int64_t creating = 0;
  int64_t heartbeat_ms = 0;
  bool ready = false;  // as last reported
  health::Reason health = health::Reason::heartbeat_expired;
  bool cordoned = false;
  bool gone = false;  // removed since the load
};

// The few numbers a decision reads per node, packed so 5,000 nodes stay in cache. A node passes
// the non-label filters iff eligible && cpu ≤ free_cpu && mem ≤ free_mem && mem < mem_room.
struct HotNode {
  int64_t free_cpu = 0;  // effective quota − allocated
  int64_t free_mem = 0;
  int64_t mem_room = 0;  // real free memory − reserve
  int64_t eff_cpu = 0, eff_mem = 0;
  bool eligible = false;  // healthy, not cordoned, below its sandbox and create limits, below the
                          // CPU and disk ceilings
};

// One selectable label key: per node the ID of its value (0 = the node lacks the label).
struct LabelColumn {
  std::vector<uint32_t> value_of;
  std::vector<std::string> values{""};  // by ID; [0] stands for "absent"
  std::vector<std::optional<Quantity>> quantities{std::nullopt};
  std::unordered_map<std::string, uint32_t> ids;
};

class Inventory {
 public:
  Inventory(const std::vector<NodeRow>& rows, Policy policy, int64_t now_ms);
  // m_index views the ID strings in place: moving keeps them, copying would not.
  Inventory(const Inventory&) = delete;
  Inventory& operator=(const Inventory&) = delete;
  Inventory(Inventory&&) noexcept = default;
  Inventory& operator=(Inventory&&) noexcept = default;

  size_t size() const { return m_ids.size(); }
  const std::string& id(size_t i) const { return m_ids[i]; }
  const NodeState& node(size_t i) const { return m_nodes[i]; }
  const std::vector<NodeState>& nodes() const { return m_nodes; }
  const std::vector<HotNode>& hot() const { return m_hot; }
  const Policy& policy() const { return m_policy; }
  int64_t loaded_ms() const { return m_now_ms; }
  // Node i's heartbeat as loaded (or as last refreshed).
  Heartbeat heartbeat(size_t i) const;
  std::optional<size_t> index_of(std::string_view id) const;
  // nullptr when the key is not selectable or no node has it.
  const LabelColumn* column(std::string_view full_key) const;
  // The label's text on node i, or nullptr when absent.
  const std::string* label(const LabelColumn& c, size_t i) const;

  // Replaces node i's numbers with a fresh read (inside a placement transaction); nullopt = gone.
  void refresh(size_t i, const std::optional<NodeRow>& row, int64_t now_ms);
  void add_allocation(size_t i, int64_t cpu_m, int64_t mem_bytes);

 private:
  NodeState state_of(const NodeRow& row, int64_t now_ms) const;
  HotNode hot_of(const NodeState& n) const;
  void add_label(std::string_view key, size_t node, const std::string& value);

  Policy m_policy;
  int64_t m_now_ms;
  std::vector<std::string> m_ids;
  std::vector<NodeState> m_nodes;
  std::vector<HotNode> m_hot;
  std::unordered_map<std::string_view, size_t> m_index;
  std::unordered_map<std::string, LabelColumn> m_columns;
};

}  // namespace cube::sched
