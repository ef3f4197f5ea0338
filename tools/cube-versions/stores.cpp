#include "stores.hpp"

#include "log.hpp"

namespace cube::versions {
namespace {

// A read snapshot of the state file, ended however the body ends.
class Snapshot {
 public:
  explicit Snapshot(state::Db& db) : m_db(db) { m_db.exec("BEGIN"); }
  ~Snapshot() {
    try {
      m_db.exec("ROLLBACK");
    } catch (...) {  // nothing was written; closing the connection ends it too
    }
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  state::Db& m_db;
};

}  // namespace

Stores::Stores(cli::Context& ctx, cluster::Access access) : m_ctx(ctx), m_access(access) {
  cluster::Choice c = ctx.cluster_choice();
  m_cluster = cluster::open({c.url, c.url.empty() ? ctx.state_path() : ""}, access);
  log::debug("cluster store: {}", m_cluster->where());  // a URL's password never prints (redacted)
}

state::Db& Stores::state_file() {
  if (state::Db* same = m_cluster->state_file()) return *same;
  if (!m_state)
    m_state.emplace(m_ctx.open_state(m_access == cluster::Access::read ? state::Access::read : state::Access::write));
  return *m_state;
}

void Stores::write(const std::function<void(Both&)>& body) {
  if (state::Db* db = m_cluster->state_file()) {  // one file: one transaction
    m_cluster->write([&](cluster::Tx& tx) {
      Both both(tx, [db]() -> state::Db& { return *db; });
      body(both);
    });
    return;
  }
  std::optional<state::Transaction> local;  // taken when the body first asks for the state file
  m_cluster->write([&](cluster::Tx& tx) {
    if (local) state_file().exec("ROLLBACK TO cube_attempt");  // a rerun starts from the same state file
    Both both(tx, [&]() -> state::Db& {
      if (!local) {
        local.emplace(state_file());
        state_file().exec("SAVEPOINT cube_attempt");
      }
      return state_file();
    });
    body(both);
  });
  if (local) local->commit();
}

void Stores::read(const std::function<void(Both&)>& body) {
  if (state::Db* db = m_cluster->state_file()) {  // one file: one snapshot of every table
    m_cluster->read([&](cluster::Tx& tx) {
      Both both(tx, [db]() -> state::Db& { return *db; });
      body(both);
    });
    return;
  }
  m_cluster->read([&](cluster::Tx& tx) {
    std::optional<Snapshot> local;
    Both both(tx, [&]() -> state::Db& {
      if (!local) local.emplace(state_file());
      return state_file();
    });
    body(both);
  });
}

}  // namespace cube::versions
