#include "state.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "log.hpp"
#include "migrations.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>

namespace cube::state {
namespace {

constexpr int k_wal_retry_ms = 10;
// The write-ahead log's bound (journal_size_limit, and the size past which a closing connection
// folds it back: Db::Close).
constexpr int64_t k_wal_limit_bytes = 4 << 20;

// SQLite's own busy timeout sleeps 1, 2, 5, 10 … ms between tries, so a writer that meets a lock
// held for 50 µs (a heartbeat) waits at least a millisecond, and three collisions in a row cost 8:
// that was the p99 of a placement beside 2,000 heartbeats/s (tests/bench/cluster-store). This
// handler starts at 50 µs and doubles up to 10 ms, giving up, as before, after 5 s of waiting.
int wait_busy(void*, int tries) {
  constexpr int64_t first_us = 50, cap_us = 10'000;
  int64_t waited_us = 0, step_us = first_us;
  for (int i = 0; i < tries; ++i) {  // what the earlier tries of this wait slept
    waited_us += step_us;
    step_us = std::min(step_us * 2, cap_us);
  }
  if (waited_us >= int64_t{k_busy_timeout_ms} * 1000) return 0;
  ::usleep(static_cast<useconds_t>(step_us));
  return 1;
}

// The state file's waits go through wait_busy; a file opened with a shorter bound, SQLite's own.
void wait_when_busy(sqlite3* db, int busy_ms) {
  if (busy_ms == k_busy_timeout_ms)
    sqlite3_busy_handler(db, wait_busy, nullptr);
  else
    sqlite3_busy_timeout(db, busy_ms);
}

// Creates the file 0600 before SQLite does, so it never exists with a wider mode, even briefly.
void create_private(const std::string& path, std::string_view kind) {
  std::string dir = fs::dirname(path);
  fs::make_dirs(dir, 0700);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno != EEXIST) throw sys_error(errno, fmt::format("cannot create {} {}", kind, path));
  if (fd >= 0) ::close(fd);
  // SQLite reports a FIFO or a device only as "disk I/O error" once it has tried to read it.
  struct stat st {};
  if (fd < 0 && ::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    throw Error(Exit::failed, fmt::format("{} {} is not a regular file", kind, path),
                "give the path of a SQLite file, or of one to create");
}

// The first component of `path` (as given: relative stays relative) that is a symbolic link, or "".
std::string symlink_in(const std::string& path) {
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    std::string prefix = path.substr(0, end);
    struct stat st {};
    if (!prefix.empty() && ::lstat(prefix.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return prefix;
    if (end == std::string::npos) return "";
  }
}

}  // namespace

std::string path(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (const char* env = std::getenv("CUBE_STATE"); env && *env) return env;
  return std::string(k_default_path);
}

const Schema& state_schema() {
  static const Schema schema{"state file", std::span(k_migrations, k_migration_count)};
  return schema;
}

int latest_schema_version() { return state_schema().latest(); }

Db Db::open(const std::string& file, Access access, const Schema& schema, int busy_ms) {
  if (file.empty()) throw Error(Exit::usage, fmt::format("{} path is empty", schema.kind));
  create_private(file, schema.kind);
  // NOMUTEX: a Db belongs to one thread; SQLite's per-call locking cost a third of a large read.
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(file, raw, schema, busy_ms);
  if (rc != SQLITE_OK) {
    if (std::string link = symlink_in(file); !link.empty())
      throw Error(Exit::failed, fmt::format("{} {}: {} is a symbolic link", schema.kind, file, link),
                  fmt::format("the {} is opened without following symbolic links", schema.kind),
                  "give the path the link points to (cube-state(5))");
    db.raise(rc, "opening");
  }
  // The schema check is the first read: without the busy timeout, a writer's lock at that moment
  // would fail the open (exit 4) instead of waiting as every later statement does.
  wait_when_busy(raw, busy_ms);
  db.check_schema();
  db.configure();
  db.migrate();
  // Readers map the file instead of copying it page by page through pread: a large read (the
  // version matrix) spent most of its system time in those copies.
  if (access == Access::read) db.exec("PRAGMA query_only=ON; PRAGMA mmap_size=1073741824");
  return db;
}

// Before configure(), which may switch the journal mode: a file this tool does not understand is
// left exactly as it was.
void Db::check_schema() {
  Statement version(*this, "PRAGMA user_version");
  version.step();
  refuse_newer_schema(fmt::format("{} {}", m_schema->kind, m_path), version.integer(0), m_schema->latest());
}

void Db::configure() {
  wait_when_busy(m_db.get(), m_busy_ms);
  sqlite3_extended_result_codes(m_db.get(), 1);
  enable_wal();
  exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL");
  keep_wal_on_close();
}

// By default the last connection to close checkpoints the WAL into the file and deletes it: three
// fdatasyncs and an unlink, which on a virtual disk cost more than all the rest of a short
// command (30 ms against 10 for `cube-egress-rules set`, paid by every step of cube-sandbox up).
// Kept, the WAL is copied into the file by SQLite's automatic checkpoint once it holds 1,000 pages,
// and folded back and removed by the last connection to close once it passes 4 MiB (Db::Close
// says why that is needed). Durability is unchanged (a commit is in the WAL either way); a copy of
// the state file must now be taken with SQLite's backup (cube-state(5), "Backups") rather than
// cp, which was already the only safe way while tools run.
void Db::keep_wal_on_close() {
  int rc = sqlite3_db_config(m_db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  if (rc != SQLITE_OK) raise(rc, "keeping the write-ahead log on close");
  exec(fmt::format("PRAGMA journal_size_limit={}", k_wal_limit_bytes));
}

// The automatic checkpoint copies the log into the file but does not rewind it: only a write that
// begins after it does, in a connection that knows it happened. The first connection to open the
// file rebuilds SQLite's WAL index by reading the whole log, and forgets that it was copied. So
// when every process commits once (a heartbeat, a placement), or writers never leave the log idle,
// it grows for ever and every tool's start reads all of it: 190 MB, 46,000 reads, 0.25 s per
// `cube-sched place --commit` after tests/bench/cluster-store. Past the limit, the last connection
// to close folds it back and removes it, as SQLite does by default: the syncs of keep_wal_on_close()
// are paid once per ~1,000 pages written, not by every command.
void Db::Close::operator()(sqlite3* db) const {
  const char* file = sqlite3_db_filename(db, "main");
  struct stat st {};
  if (file && *file && ::stat(sqlite3_filename_wal(file), &st) == 0 && st.st_size > k_wal_limit_bytes)
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
  sqlite3_close_v2(db);
}

// journal_mode=WAL is persistent in the file; on a WAL file setting it again is a no-op read. On a
// fresh file the switch needs an exclusive lock that SQLite does not wait for through the busy
// handler, so processes opening a new file together get SQLITE_BUSY at once: retry for as long as
// the busy timeout.
void Db::enable_wal() {
  auto first_column = [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0] ? values[0] : "";
    return 0;
  };
  for (int waited_ms = 0;; waited_ms += k_wal_retry_ms) {
    std::string mode;
    int rc = sqlite3_exec(m_db.get(), "PRAGMA journal_mode=WAL", first_column, &mode, nullptr);
    if (rc == SQLITE_OK && mode == "wal") return;
    if (rc == SQLITE_OK)
      throw Error(Exit::failed, fmt::format("{} {}: cannot use write-ahead logging", m_schema->kind, m_path),
                  fmt::format("the journal mode stays '{}'", mode),
                  fmt::format("put the {} on a local file system", m_schema->kind));
    if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= m_busy_ms) raise(rc, "switching the journal to WAL");
    ::usleep(k_wal_retry_ms * 1000);
  }
}

void Db::migrate() {
  Statement version(*this, "PRAGMA user_version");
  version.step();
  m_schema_version = static_cast<int>(version.integer(0));
  version.reset();
  if (m_schema_version >= m_schema->latest()) return;
  Transaction tx(*this);
  // Another process may have migrated while we waited for the write lock: read again inside it.
  version.step();
  m_schema_version = static_cast<int>(version.integer(0));
  version.reset();
  if (m_schema_version > m_schema->latest()) check_schema();  // a newer tool migrated meanwhile
  for (const Migration& m : m_schema->migrations) {
    if (m.number <= m_schema_version) continue;
    char* msg = nullptr;
    int rc = sqlite3_exec(m_db.get(), m.sql, nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      std::string why = msg ? msg : sqlite3_errstr(rc);
      sqlite3_free(msg);
      throw Error(Exit::failed,
                  fmt::format("{} {}: migration {:04}_{} failed", m_schema->kind, m_path, m.number, m.name), why);
    }
    exec(fmt::format("PRAGMA user_version={}", m.number));
    m_schema_version = m.number;
  }
  tx.commit();
}

void Db::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return;
  sqlite3_free(msg);
  raise(rc, fmt::format("running '{}'", text.substr(0, 60)));
}

bool Db::table_exists(std::string_view name) {
  Statement s(*this, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1");
  s.bind(1, name);
  return s.step();
}

int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(m_db.get()); }
int Db::changes() const { return sqlite3_changes(m_db.get()); }

void Db::raise(int rc, std::string_view doing) const {
  const char* detail = m_db ? sqlite3_errmsg(m_db.get()) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  std::string what = fmt::format("{} {}: {} failed", m_schema->kind, m_path, doing);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw Error(Exit::conflict, what, detail,
                fmt::format("another process held the write lock for over {}; try again",
                            m_busy_ms % 1000 ? fmt::format("{} ms", m_busy_ms) : fmt::format("{}s", m_busy_ms / 1000)));
  if (primary == SQLITE_CONSTRAINT) throw Error(Exit::conflict, what, detail);
  // Under PRAGMA query_only a write fails as SQLITE_READONLY: that is this tool's bug, not the file's.
  if (primary == SQLITE_READONLY && sqlite3_db_readonly(m_db.get(), "main") == 0)
    throw Error(Exit::failed, what, detail, "internal error: a write on a connection opened for reading");
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_PERM || primary == SQLITE_READONLY)
    throw Error(Exit::failed, what, detail, "check the path and its permissions, or set --state / CUBE_STATE");
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    throw Error(Exit::failed, what, detail, fmt::format("the file is not a cube {} or is damaged", m_schema->kind));
  if (primary == SQLITE_FULL) throw Error(Exit::failed, what, detail, "the disk is full");
  throw Error(Exit::failed, what, detail);
}

Statement::Statement(Db& db, std::string_view sql) : m_db(&db) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              nullptr);
  m_stmt.reset(raw);
  if (rc != SQLITE_OK) db.raise(rc, fmt::format("preparing '{}'", sql.substr(0, 60)));
}

Statement& Statement::bind(int index, int64_t v) {
  int rc = sqlite3_bind_int64(m_stmt.get(), index, v);
  if (rc != SQLITE_OK) m_db->raise(rc, "binding a parameter");
  return *this;
}

Statement& Statement::bind(int index, double v) {
  int rc = sqlite3_bind_double(m_stmt.get(), index, v);
  if (rc != SQLITE_OK) m_db->raise(rc, "binding a parameter");
  return *this;
}

Statement& Statement::bind(int index, std::string_view v) {
  int rc = sqlite3_bind_text64(m_stmt.get(), index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) m_db->raise(rc, "binding a parameter");
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(m_stmt.get(), index);
  if (rc != SQLITE_OK) m_db->raise(rc, "binding a parameter");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(m_stmt.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(m_stmt.get());
  sqlite3_reset(m_stmt.get());
  m_db->raise(rc, fmt::format("running '{}'", sql.substr(0, 60)));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(m_stmt.get());
  sqlite3_clear_bindings(m_stmt.get());
}

int64_t Statement::integer(int column) const { return sqlite3_column_int64(m_stmt.get(), column); }
double Statement::real(int column) const { return sqlite3_column_double(m_stmt.get(), column); }

std::string_view Statement::text(int column) const {
  const unsigned char* p = sqlite3_column_text(m_stmt.get(), column);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(m_stmt.get(), column))};
}

bool Statement::is_null(int column) const { return sqlite3_column_type(m_stmt.get(), column) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (m_open) sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  m_db.exec("COMMIT");
  m_open = false;
}

}  // namespace cube::state
