#include "learned_names.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"

#include <sys/stat.h>

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
CREATE INDEX learned_names_by_sandbox ON learned_names (sandbox_id, expires_ms);
)"},
    // Which resolver gave each row, so that a policy that stops naming a resolver stops trusting
    // what it said at once. The rows are a cache the next answers fill again: the table is made anew.
    {2, "learned_names by resolver", R"(
DROP TABLE learned_names;
CREATE TABLE learned_names (
  sandbox_id TEXT    NOT NULL,
  name       TEXT    NOT NULL,  -- as asked, lower-cased, no trailing dot
  address    TEXT    NOT NULL,  -- an IPv4 address of an A record for the name or its CNAME chain
  resolver   TEXT    NOT NULL,  -- the IPv4 address of the resolver that answered
  expires_ms INTEGER NOT NULL,  -- Unix ms: when the record was answered plus its TTL
  PRIMARY KEY (sandbox_id, name, address, resolver)
) WITHOUT ROWID;
CREATE INDEX learned_names_expiry ON learned_names (expires_ms);
CREATE INDEX learned_names_by_sandbox ON learned_names (sandbox_id, expires_ms);
)"},
};

}  // namespace

std::string names_path(std::string_view state_path) { return std::string(state_path) + "-names"; }

const state::Schema& names_schema() {
  static const state::Schema schema{"names file", k_names_migrations};
  return schema;
}

NamesFile::NamesFile(std::string path, state::Access access, int busy_ms)
    : m_path(std::move(path)), m_access(access), m_busy_ms(busy_ms) {}

state::Db* NamesFile::get(int64_t steady_ms, bool& reopened) {
  reopened = false;
  if (steady_ms < m_next_check_ms) return m_db ? &*m_db : nullptr;
  m_next_check_ms = steady_ms + k_names_retry_ms;
  struct stat before {};
  bool there = ::stat(m_path.c_str(), &before) == 0;
  if (m_db && there && before.st_dev == m_dev && before.st_ino == m_ino) return &*m_db;
  m_db.reset();
  // Never the state file's 5 s, not even while opening: the relay answers every sandbox from one
  // thread, and a proxy thread waiting here holds the others' name checks.
  m_db.emplace(state::Db::open(m_path, m_access, names_schema(), m_busy_ms));
  // The file as it was before the open, when there was one: a replacement made meanwhile is seen
  // at the next check, not taken for the file this connection has.
  struct stat after {};
  const struct stat* id = there ? &before : (::stat(m_path.c_str(), &after) == 0 ? &after : nullptr);
  m_dev = id ? id->st_dev : 0;
  m_ino = id ? id->st_ino : 0;
  reopened = true;
  return &*m_db;
}

NamesWriter::NamesWriter(std::string path) : m_file(std::move(path), state::Access::write, k_names_busy_ms) {}

void NamesWriter::add(std::string_view sandbox, std::string_view name, uint32_t resolver,
                      const std::vector<dns::Address>& addresses, int64_t now_ms) {
  for (const dns::Address& a : addresses)
    m_pending.push_back(
        Row{std::string(sandbox), std::string(name), a.address, resolver, now_ms + int64_t{a.ttl} * 1000});
}

void NamesWriter::flush(int64_t now_ms, int64_t steady_ms) {
  bool sweep = steady_ms >= m_next_sweep_ms;
  if (m_pending.empty() && !sweep) return;
  if (sweep) m_next_sweep_ms = steady_ms + k_names_sweep_ms;
  // Said when writing starts to fail and when it works again, not at every answer in between.
  try {
    bool reopened = false;
    state::Db* db = steady_ms >= m_retry_ms ? m_file.get(steady_ms, reopened) : nullptr;
    if (reopened) m_sql.reset();
    if (db) {
      write(*db, now_ms, sweep);
      if (m_failing) log::info("writing the names file again");
      m_failing = false;
    }
  } catch (const Error& e) {
    if (!m_failing) log::warn("learned addresses not kept for the proxy until this clears: {}", e.message());
    m_failing = true;
    m_retry_ms = steady_ms + k_names_retry_ms;
  }
  m_pending.clear();
}

NamesWriter::Statements NamesWriter::prepare(state::Db& db) {
  return Statements{
      db.prepare("INSERT INTO learned_names (sandbox_id, name, address, resolver, expires_ms) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET expires_ms = excluded.expires_ms"),
      db.prepare("SELECT count(*) FROM learned_names WHERE sandbox_id = ?1"),
      db.prepare("DELETE FROM learned_names WHERE (sandbox_id, name, address, resolver) IN (SELECT sandbox_id, "
                 "name, address, resolver FROM learned_names WHERE sandbox_id = ?1 ORDER BY expires_ms DESC "
                 "LIMIT -1 OFFSET ?2)"),
      db.prepare("DELETE FROM learned_names WHERE expires_ms <= ?1")};
}

void NamesWriter::write(state::Db& db, int64_t now_ms, bool sweep) {
  if (!m_sql) m_sql.emplace(prepare(db));
  Statements& q = *m_sql;
  state::Transaction tx(db);
  std::set<std::string> sandboxes;
  for (const Row& r : m_pending) {
    q.upsert.bind_all(r.sandbox, r.name, ipv4::format(r.address), ipv4::format(r.resolver), r.expires_ms).run();
    sandboxes.insert(r.sandbox);
  }
  for (const std::string& s : sandboxes) {
    q.count.bind(1, s).step();
    bool over = q.count.integer(0) > static_cast<int64_t>(k_max_names_per_sandbox);
    q.count.reset();
    if (over) q.trim.bind_all(s, static_cast<int64_t>(k_max_names_per_sandbox)).run();
  }
  if (sweep) q.sweep.bind(1, now_ms).run();
  tx.commit();
}

NamesReader::NamesReader(std::string path) : m_file(std::move(path), state::Access::read, k_names_read_busy_ms) {}

void NamesReader::open(int64_t steady_ms) {
  std::lock_guard lock(m_mutex);
  statement(steady_ms);
}

bool NamesReader::has(std::string_view sandbox, std::string_view name, uint32_t address,
                      std::span<const uint32_t> resolvers, int64_t now_ms, int64_t steady_ms) {
  std::lock_guard lock(m_mutex);
  state::Statement* find = statement(steady_ms);
  if (!find) return false;
  find->bind_all(sandbox, name, ipv4::format(address), now_ms);
  bool found = false;
  while (!found && find->step()) {
    auto resolver = ipv4::parse_address(find->text(0));
    found = resolver && std::find(resolvers.begin(), resolvers.end(), *resolver) != resolvers.end();
  }
  find->reset();
  return found;
}

state::Statement* NamesReader::statement(int64_t steady_ms) {
  bool reopened = false;
  state::Db* db = m_file.get(steady_ms, reopened);
  if (reopened || !db) m_find.reset();
  if (db && !m_find)
    m_find.emplace(db->prepare(
        "SELECT resolver FROM learned_names WHERE sandbox_id = ?1 AND name = ?2 AND address = ?3 AND expires_ms > ?4"));
  return m_find ? &*m_find : nullptr;
}

}  // namespace cube::egress
