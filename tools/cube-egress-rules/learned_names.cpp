#include "learned_names.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"

#include <algorithm>
#include <set>

namespace cube::egress {
namespace {

// Addresses as text, so that an operator reading the file with sqlite3 sees what the guest saw.
constexpr state::Migration k_names_migrations[] = {
    {1, "learned_names", R"(
CREATE TABLE learned_names (
  sandbox_id TEXT    NOT NULL,
  name       TEXT    NOT NULL,  -- as asked, lower-cased, no trailing dot
  address    TEXT    NOT NULL,  -- an IPv4 address of an A record for the name or its CNAME chain
  expires_ms INTEGER NOT NULL,  -- Unix ms: when the record was answered plus its TTL
  PRIMARY KEY (sandbox_id, name, address)
) WITHOUT ROWID;
CREATE INDEX learned_names_expiry ON learned_names (expires_ms);
)"},
};

}  // namespace

std::string names_path(std::string_view state_path) { return std::string(state_path) + "-names"; }

const state::Schema& names_schema() {
  static const state::Schema schema{"names file", k_names_migrations};
  return schema;
}

NamesWriter::NamesWriter(const std::string& path) : m_db(state::Db::open(path, state::Access::write, names_schema())) {
  // The relay answers every sandbox from one thread: it must never wait long on this file (held
  // only by a second writer that should not be there, or an operator's sqlite3 shell).
  sqlite3_busy_timeout(m_db.handle(), k_names_busy_ms);
}

void NamesWriter::add(std::string_view sandbox, std::string_view name, const std::vector<dns::Address>& addresses,
                      int64_t now_ms) {
  for (const dns::Address& a : addresses)
    m_pending.push_back(Row{std::string(sandbox), std::string(name), a.address, now_ms + int64_t{a.ttl} * 1000});
}

void NamesWriter::flush(int64_t now_ms) {
  if (m_pending.empty() && now_ms < m_next_sweep_ms) return;
  // Said when writing starts to fail and when it works again, not at every answer in between.
  try {
    write(now_ms);
    if (m_failing) log::info("writing the names file {} again", m_db.path());
    m_failing = false;
  } catch (const Error& e) {
    if (!m_failing) log::warn("learned addresses not kept for the proxy until this clears: {}", e.message());
    m_failing = true;
  }
  m_pending.clear();
}

void NamesWriter::write(int64_t now_ms) {
  state::Transaction tx(m_db);
  auto upsert = m_db.prepare(
      "INSERT INTO learned_names (sandbox_id, name, address, expires_ms) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT DO UPDATE SET expires_ms = excluded.expires_ms");
  std::set<std::string> sandboxes;
  for (const Row& r : m_pending) {
    upsert.bind_all(r.sandbox, r.name, ipv4::format(r.address), r.expires_ms).run();
    sandboxes.insert(r.sandbox);
  }
  auto count = m_db.prepare("SELECT count(*) FROM learned_names WHERE sandbox_id = ?1");
  auto trim = m_db.prepare(
      "DELETE FROM learned_names WHERE (sandbox_id, name, address) IN (SELECT sandbox_id, name, address "
      "FROM learned_names WHERE sandbox_id = ?1 ORDER BY expires_ms DESC LIMIT -1 OFFSET ?2)");
  for (const std::string& s : sandboxes) {
    count.bind(1, s).step();
    bool over = count.integer(0) > static_cast<int64_t>(k_max_names_per_sandbox);
    count.reset();
    if (over) trim.bind_all(s, static_cast<int64_t>(k_max_names_per_sandbox)).run();
  }
  if (now_ms >= m_next_sweep_ms) {
    m_db.prepare("DELETE FROM learned_names WHERE expires_ms <= ?1").bind(1, now_ms).run();
    m_next_sweep_ms = now_ms + k_names_sweep_ms;
  }
  tx.commit();
}

NamesReader::NamesReader(const std::string& path)
    : m_db(state::Db::open(path, state::Access::read, names_schema())),
      m_find(m_db.prepare("SELECT 1 FROM learned_names "
                          "WHERE sandbox_id = ?1 AND name = ?2 AND address = ?3 AND expires_ms > ?4")) {}

bool NamesReader::has(std::string_view sandbox, std::string_view name, uint32_t address, int64_t now_ms) {
  std::lock_guard lock(m_mutex);
  m_find.bind_all(sandbox, name, ipv4::format(address), now_ms);
  bool found = m_find.step();
  m_find.reset();
  return found;
}

}  // namespace cube::egress
