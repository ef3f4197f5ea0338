// cube::egress learned_names — the names file: which addresses each sandbox's own resolver gave
// for a name, written by the DNS relay and read by the proxy's dst_not_of_name check, so that a
// name whose answers differ from resolver to resolver (a CDN, a rotating pool) is still allowed at
// the address the sandbox was told.
//
// Contract (doc/cube-egress-rules.md "DNS learning"):
// - The file is <state file>-names, a SQLite file of its own, created 0600 beside the state file.
//   It is apart from the state file because it changes at the pace of DNS answers: every commit to
//   the state file wakes each tool that watches it (the proxy's and the relay's policy reloads).
// - A row is (sandbox ID, name, address, expiry in Unix ms). Keyed by sandbox ID, not address: a
//   pooled address given to another sandbox inherits nothing. A name learned again takes the new
//   expiry. A sandbox keeps at most k_max_names_per_sandbox rows; past that the ones nearest to
//   expiry go first. Expired rows are never found, and are removed once a minute by the writer.
// - NamesWriter queues what add() gets and writes it in one transaction per flush(), which also
//   sweeps expired rows when due. It waits k_names_busy_ms at most for the lock. A failure loses
//   that batch only (the proxy then asks the node's resolver, as without it) and is a warning
//   once, until a write works again.
// - NamesReader::has() may be called from any thread.
#pragma once

#include "dns_message.hpp"
#include "state.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cube::egress {

inline constexpr size_t k_max_names_per_sandbox = 4096;
inline constexpr int64_t k_names_sweep_ms = 60'000;
inline constexpr int k_names_busy_ms = 50;  // the writer's wait for the file's lock

std::string names_path(std::string_view state_path);
const state::Schema& names_schema();

class NamesWriter {
 public:
  explicit NamesWriter(const std::string& path);  // throws Error naming the file
  void add(std::string_view sandbox, std::string_view name, const std::vector<dns::Address>& addresses, int64_t now_ms);
  void flush(int64_t now_ms);
  size_t pending() const { return m_pending.size(); }

 private:
  struct Row {
    std::string sandbox, name;
    uint32_t address;
    int64_t expires_ms;
  };
  void write(int64_t now_ms);

  state::Db m_db;
  std::vector<Row> m_pending;
  int64_t m_next_sweep_ms = 0;
  bool m_failing = false;
};

class NamesReader {
 public:
  explicit NamesReader(const std::string& path);  // throws Error naming the file
  // Whether `sandbox`'s resolver gave `address` (host order) for `name` and its TTL has not run out.
  bool has(std::string_view sandbox, std::string_view name, uint32_t address, int64_t now_ms);

 private:
  std::mutex m_mutex;
  state::Db m_db;
  state::Statement m_find;
};

}  // namespace cube::egress
