// cube::tap store — the rows of tap_node, taps and port_mappings (common/migrations/0005_tap.sql).
// Plain reads and writes; the caller holds the transaction that makes a change atomic.
#pragma once

#include "ipam.hpp"
#include "next_fit.hpp"
#include "state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cube::tap {

struct NodeRow {
  std::string uplink;
  Cidr cidr;
  int64_t mtu = 1500;
  uint32_t ipam_cursor = 1;
  uint32_t port_cursor = 19999;
  std::string saved_port_range, set_port_range, saved_forwarding;
  int64_t setup_ms = 0;
};

enum class TapState { creating, in_use, releasing, pooled, quarantined };
std::string_view state_name(TapState s);

struct TapRow {
  std::string name;
  uint32_t address = 0;
  uint32_t index = 0;
  int ifindex = 0;
  std::string sandbox_id;  // "" while pooled or quarantined
  TapState state = TapState::creating;
  std::string owner;     // the process mid-change ("pid:start"), "" at rest
  bool destroy = false;  // a release in progress destroys the TAP
  int failures = 0;
  std::string last_error, last_stage;
  int64_t created_ms = 0, updated_ms = 0;
};

struct PortRow {
  uint32_t host_port = 0;
  std::string tap_name;
  std::string sandbox_id;
  uint32_t container_port = 0;
  std::string protocol = "tcp";
};

std::optional<NodeRow> load_node(state::Db& db);
void save_node(state::Db& db, const NodeRow& row);
void delete_node(state::Db& db);
void save_cursors(state::Db& db, uint32_t ipam_cursor, uint32_t port_cursor);

std::optional<TapRow> tap_by_sandbox(state::Db& db, std::string_view sandbox);
// The same lookup with its statement prepared once, for a long-running caller (serve) that asks
// for every request.
class TapLookup {
 public:
  explicit TapLookup(state::Db& db);
  std::optional<TapRow> by_sandbox(std::string_view sandbox);

 private:
  state::Statement m_st;
};
std::optional<TapRow> tap_by_name(state::Db& db, std::string_view name);
std::vector<TapRow> all_taps(state::Db& db);
std::vector<TapRow> taps_in(state::Db& db, TapState state);
// The pooled TAP that waited longest (the pool is FIFO).
std::optional<TapRow> oldest_pooled(state::Db& db);
int64_t count_in(state::Db& db, TapState state);
// TAPs that are pooled or on their way there (a release in progress that keeps its TAP): what
// the pool limit counts, so that releases running at once cannot overfill the pool. `except` is
// the TAP being decided on, which never counts itself.
int64_t count_pool_bound(state::Db& db, std::string_view except);
void insert_tap(state::Db& db, const TapRow& row);
// Writes every column of the row named row.name.
void update_tap(state::Db& db, const TapRow& row);
void delete_tap(state::Db& db, std::string_view name);

std::vector<PortRow> ports_of(state::Db& db, std::string_view tap_name);
std::vector<PortRow> all_ports(state::Db& db);
bool port_taken(state::Db& db, uint32_t host_port);
void insert_port(state::Db& db, const PortRow& row);
void delete_ports(state::Db& db, std::string_view tap_name);

// Ascending scans of the used address indexes and host ports, for next-fit.
OpenScan index_scan(state::Db& db);
OpenScan port_scan(state::Db& db);

}  // namespace cube::tap
