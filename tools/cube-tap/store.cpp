#include "store.hpp"

#include "error.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <memory>

namespace cube::tap {
namespace {

constexpr std::string_view k_tap_columns =
    "name, address, addr_index, ifindex, ifnull(sandbox_id, ''), state, owner, destroy, failures, last_error, "
    "last_stage, created_ms, updated_ms";

TapState parse_state(std::string_view s) {
  for (TapState t :
       {TapState::creating, TapState::in_use, TapState::releasing, TapState::pooled, TapState::quarantined})
    if (state_name(t) == s) return t;
  throw Error(Exit::failed, fmt::format("taps: unknown state '{}'", s), "the state file is newer than this tool?");
}

TapRow read_tap(const state::Statement& st) {
  TapRow r;
  r.name = st.text(0);
  r.address = ipv4::parse_address(st.text(1)).value_or(0);
  r.index = static_cast<uint32_t>(st.integer(2));
  r.ifindex = static_cast<int>(st.integer(3));
  r.sandbox_id = st.text(4);
  r.state = parse_state(st.text(5));
  r.owner = st.text(6);
  r.destroy = st.integer(7) != 0;
  r.failures = static_cast<int>(st.integer(8));
  r.last_error = st.text(9);
  r.last_stage = st.text(10);
  r.created_ms = st.integer(11);
  r.updated_ms = st.integer(12);
  return r;
}

std::vector<TapRow> read_taps(state::Statement st) {
  std::vector<TapRow> out;
  while (st.step()) out.push_back(read_tap(st));
  return out;
}

std::optional<TapRow> first(std::vector<TapRow> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

PortRow read_port(const state::Statement& st) {
  return {static_cast<uint32_t>(st.integer(0)), std::string(st.text(1)), std::string(st.text(2)),
          static_cast<uint32_t>(st.integer(3)), std::string(st.text(4))};
}

// A scan over one integer column, ascending from a value; the statement lives in the closure.
OpenScan column_scan(state::Db& db, std::string sql) {
  return [&db, sql](uint32_t from) -> UsedScan {
    auto st = std::make_shared<state::Statement>(db, sql);
    st->bind(1, static_cast<int64_t>(from));
    return [st]() -> std::optional<uint32_t> {
      if (!st->step()) return std::nullopt;
      return static_cast<uint32_t>(st->integer(0));
    };
  };
}

}  // namespace

std::string_view state_name(TapState s) {
  switch (s) {
    case TapState::creating: return "creating";
    case TapState::in_use: return "in_use";
    case TapState::releasing: return "releasing";
    case TapState::pooled: return "pooled";
    case TapState::quarantined: return "quarantined";
  }
  return "?";
}

std::optional<NodeRow> load_node(state::Db& db) {
  auto st = db.prepare(
      "SELECT uplink, cidr, mtu, ipam_cursor, port_cursor, saved_port_range, set_port_range, saved_forwarding, "
      "setup_ms FROM tap_node WHERE id = 1");
  if (!st.step()) return std::nullopt;
  NodeRow r;
  r.uplink = st.text(0);
  r.cidr = parse_cidr(st.text(1), "tap_node.cidr");
  r.mtu = st.integer(2);
  r.ipam_cursor = static_cast<uint32_t>(st.integer(3));
  r.port_cursor = static_cast<uint32_t>(st.integer(4));
  r.saved_port_range = st.text(5);
  r.set_port_range = st.text(6);
  r.saved_forwarding = st.text(7);
  r.setup_ms = st.integer(8);
  return r;
}

void save_node(state::Db& db, const NodeRow& r) {
  db.prepare(
        "INSERT INTO tap_node (id, uplink, cidr, gateway, mtu, ipam_cursor, port_cursor, saved_port_range, "
        "set_port_range, saved_forwarding, setup_ms) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET uplink = excluded.uplink, cidr = excluded.cidr, gateway = excluded.gateway, "
        "mtu = excluded.mtu, ipam_cursor = excluded.ipam_cursor, port_cursor = excluded.port_cursor, "
        "saved_port_range = excluded.saved_port_range, set_port_range = excluded.set_port_range, "
        "saved_forwarding = excluded.saved_forwarding, setup_ms = excluded.setup_ms")
      .bind_all(r.uplink, r.cidr.text(), ipv4::format(r.cidr.gateway()), r.mtu, static_cast<int64_t>(r.ipam_cursor),
                static_cast<int64_t>(r.port_cursor), r.saved_port_range, r.set_port_range, r.saved_forwarding,
                r.setup_ms)
      .run();
}

void delete_node(state::Db& db) { db.exec("DELETE FROM tap_node"); }

void save_cursors(state::Db& db, uint32_t ipam_cursor, uint32_t port_cursor) {
  db.prepare("UPDATE tap_node SET ipam_cursor = ?, port_cursor = ? WHERE id = 1")
      .bind_all(static_cast<int64_t>(ipam_cursor), static_cast<int64_t>(port_cursor))
      .run();
}

std::optional<TapRow> tap_by_sandbox(state::Db& db, std::string_view sandbox) {
  auto st = db.prepare(fmt::format("SELECT {} FROM taps WHERE sandbox_id = ?", k_tap_columns));
  st.bind(1, sandbox);
  return first(read_taps(std::move(st)));
}

TapLookup::TapLookup(state::Db& db)
    : m_st(db.prepare(fmt::format("SELECT {} FROM taps WHERE sandbox_id = ?", k_tap_columns))) {}

std::optional<TapRow> TapLookup::by_sandbox(std::string_view sandbox) {
  m_st.reset();  // in case a row that failed to parse left it mid-step
  m_st.bind(1, sandbox);
  std::optional<TapRow> row;
  if (m_st.step()) row = read_tap(m_st);
  m_st.reset();  // ends the read: a statement left mid-step would pin the WAL snapshot
  return row;
}

std::optional<TapRow> tap_by_name(state::Db& db, std::string_view name) {
  auto st = db.prepare(fmt::format("SELECT {} FROM taps WHERE name = ?", k_tap_columns));
  st.bind(1, name);
  return first(read_taps(std::move(st)));
}

std::vector<TapRow> all_taps(state::Db& db) {
  return read_taps(db.prepare(fmt::format("SELECT {} FROM taps ORDER BY addr_index", k_tap_columns)));
}

std::vector<TapRow> taps_in(state::Db& db, TapState s) {
  auto st = db.prepare(fmt::format("SELECT {} FROM taps WHERE state = ? ORDER BY updated_ms, name", k_tap_columns));
  st.bind(1, state_name(s));
  return read_taps(std::move(st));
}

std::optional<TapRow> oldest_pooled(state::Db& db) {
  auto st = db.prepare(
      fmt::format("SELECT {} FROM taps WHERE state = 'pooled' ORDER BY updated_ms, name LIMIT 1", k_tap_columns));
  return first(read_taps(std::move(st)));
}

int64_t count_in(state::Db& db, TapState s) {
  auto st = db.prepare("SELECT count(*) FROM taps WHERE state = ?");
  st.bind(1, state_name(s));
  return st.step() ? st.integer(0) : 0;
}

int64_t count_pool_bound(state::Db& db, std::string_view except) {
  auto st = db.prepare(
      "SELECT count(*) FROM taps WHERE name != ? AND (state = 'pooled' OR (state = 'releasing' AND destroy = 0))");
  st.bind(1, except);
  return st.step() ? st.integer(0) : 0;
}

void insert_tap(state::Db& db, const TapRow& r) {
  auto st = db.prepare(
      "INSERT INTO taps (name, address, addr_index, ifindex, sandbox_id, state, owner, destroy, failures, "
      "last_error, last_stage, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind_all(r.name, ipv4::format(r.address), static_cast<int64_t>(r.index), r.ifindex, r.sandbox_id,
              state_name(r.state), r.owner, r.destroy ? 1 : 0, r.failures, r.last_error, r.last_stage, r.created_ms,
              r.updated_ms);
  if (r.sandbox_id.empty()) st.bind_null(5);
  st.run();
}

void update_tap(state::Db& db, const TapRow& r) {
  auto st = db.prepare(
      "UPDATE taps SET ifindex = ?, sandbox_id = ?, state = ?, owner = ?, destroy = ?, failures = ?, last_error = ?, "
      "last_stage = ?, updated_ms = ? WHERE name = ?");
  st.bind_all(r.ifindex, r.sandbox_id, state_name(r.state), r.owner, r.destroy ? 1 : 0, r.failures, r.last_error,
              r.last_stage, time::now_ms(), r.name);
  if (r.sandbox_id.empty()) st.bind_null(2);
  st.run();
}

void delete_tap(state::Db& db, std::string_view name) {
  db.prepare("DELETE FROM taps WHERE name = ?").bind(1, name).run();
}

std::vector<PortRow> ports_of(state::Db& db, std::string_view tap_name) {
  auto st = db.prepare(
      "SELECT host_port, tap_name, sandbox_id, container_port, protocol FROM port_mappings WHERE tap_name = ? "
      "ORDER BY container_port");
  st.bind(1, tap_name);
  std::vector<PortRow> out;
  while (st.step()) out.push_back(read_port(st));
  return out;
}

std::vector<PortRow> all_ports(state::Db& db) {
  auto st = db.prepare(
      "SELECT host_port, tap_name, sandbox_id, container_port, protocol FROM port_mappings ORDER BY host_port");
  std::vector<PortRow> out;
  while (st.step()) out.push_back(read_port(st));
  return out;
}

bool port_taken(state::Db& db, uint32_t host_port) {
  auto st = db.prepare("SELECT 1 FROM port_mappings WHERE host_port = ?");
  st.bind(1, static_cast<int64_t>(host_port));
  return st.step();
}

void insert_port(state::Db& db, const PortRow& r) {
  db.prepare(
        "INSERT INTO port_mappings (host_port, tap_name, sandbox_id, container_port, protocol, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)")
      .bind_all(static_cast<int64_t>(r.host_port), r.tap_name, r.sandbox_id, static_cast<int64_t>(r.container_port),
                r.protocol, time::now_ms())
      .run();
}

void delete_ports(state::Db& db, std::string_view tap_name) {
  db.prepare("DELETE FROM port_mappings WHERE tap_name = ?").bind(1, tap_name).run();
}

OpenScan index_scan(state::Db& db) {
  return column_scan(db, "SELECT addr_index FROM taps WHERE addr_index >= ? ORDER BY addr_index");
}

OpenScan port_scan(state::Db& db) {
  return column_scan(db, "SELECT host_port FROM port_mappings WHERE host_port >= ? ORDER BY host_port");
}

}  // namespace cube::tap
