// cube::egress learned_names — the names file: which addresses each sandbox's policy's resolver
// gave it for a name (dns_learner.hpp says which answers are kept), written by the DNS relay and
// read by the proxy's dst_not_of_name check, so that a name whose answers differ from resolver to
// resolver (a CDN, a rotating pool) is still allowed at the address the sandbox was told.
//
// Contract (doc/cube-egress-rules.md "DNS learning"):
// - The file is <state file>-names, a SQLite file of its own, created 0600 beside the state file.
//   It is apart from the state file because it changes at the pace of DNS answers: every commit to
//   the state file wakes each tool that watches it (the proxy's and the relay's policy reloads).
// - A row is (sandbox ID, name, address, resolver, expiry in Unix ms). Keyed by sandbox ID, not
//   address: a pooled address given to another sandbox inherits nothing. A row counts only while its
//   resolver is one the caller of has() names (the policy's now). A name learned again from one
//   resolver takes the new expiry. A sandbox keeps at most k_max_names_per_sandbox rows; past that
//   the ones nearest to expiry go first. Expired rows are never found, and are removed once a
//   minute by the writer.
// - Both sides open the file when first needed, and again when its path names another file than
//   the one open (deleted and made again while running), checked at most once a second; a file that
//   fails to open is tried again a second later. Neither side ever stops because of the file.
// - NamesWriter queues what add() gets and writes it in one transaction per flush(), which also
//   sweeps expired rows when due. It waits k_names_busy_ms at most for the lock. A failure loses
//   that batch only (the proxy then asks the node's resolver, as without it), is a warning once
//   until a write works again, and makes the writer drop what it gets for a second instead of
//   waiting on the file at every answer.
// - NamesReader::has() may be called from any thread; it waits k_names_read_busy_ms at most.
#pragma once

#include "dns_message.hpp"
#include "state.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_names_per_sandbox = 4096;
inline constexpr int64_t k_names_sweep_ms = 60'000;
inline constexpr int64_t k_names_retry_ms = 1000;  // after a failure; and how often the path is checked
inline constexpr int k_names_busy_ms = 50;
inline constexpr int k_names_read_busy_ms = 10;

std::string names_path(std::string_view state_path);
const state::Schema& names_schema();

// The names file as one side holds it open (the contract's reopening).
class NamesFile {
 public:
  NamesFile(std::string path, state::Access access, int busy_ms);
  // The open file, opened or reopened when due; null while a failed open waits for its retry.
  // Throws Error when an open fails. `reopened` tells the caller its statements are stale.
  state::Db* get(int64_t steady_ms, bool& reopened);

 private:
  std::string m_path;
  state::Access m_access;
  int m_busy_ms;
  std::optional<state::Db> m_db;
  uint64_t m_dev = 0, m_ino = 0;
  int64_t m_next_check_ms = 0;
};

class NamesWriter {
 public:
  explicit NamesWriter(std::string path);
  // What `resolver` (host order) answered `sandbox` for `name`.
  void add(std::string_view sandbox, std::string_view name, uint32_t resolver,
           const std::vector<dns::Address>& addresses, int64_t now_ms);
  // `now_ms` (Unix) dates the rows; `steady_ms` (time::steady_ms) times the sweep and the retries.
  void flush(int64_t now_ms, int64_t steady_ms);
  size_t pending() const { return m_pending.size(); }

 private:
  struct Row {
    std::string sandbox, name;
    uint32_t address, resolver;
    int64_t expires_ms;
  };
  struct Statements {  // prepared once per open file: an answer costs its binds and steps only
    state::Statement upsert, count, trim, sweep;
  };
  static Statements prepare(state::Db& db);
  void write(state::Db& db, int64_t now_ms, bool sweep);

  NamesFile m_file;
  std::optional<Statements> m_sql;
  std::vector<Row> m_pending;
  int64_t m_next_sweep_ms = 0, m_retry_ms = 0;
  bool m_failing = false;
};

class NamesReader {
 public:
  explicit NamesReader(std::string path);
  // Whether one of `resolvers` (the policy's now) gave `sandbox` `address` (host order) for `name`
  // and its TTL has not run out. False while the file cannot be opened; throws Error when an open
  // or a read fails.
  bool has(std::string_view sandbox, std::string_view name, uint32_t address, std::span<const uint32_t> resolvers,
           int64_t now_ms, int64_t steady_ms);
  // Opens the file now (before the process confines itself); throws Error when it cannot.
  void open(int64_t steady_ms);

 private:
  state::Statement* statement(int64_t steady_ms);  // m_mutex held

  std::mutex m_mutex;
  NamesFile m_file;
  std::optional<state::Statement> m_find;
};

}  // namespace cube::egress
