// The cluster store in PostgreSQL, through libpq: one connection, SERIALIZABLE writes retried on
// serialization failures, migrations under an advisory lock (cluster.hpp has the contract).
#include "cluster_backends.hpp"
#include "cluster_libpq.hpp"
#include "error.hpp"
#include "log.hpp"
#include "migrations.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace cube::cluster {
namespace {

// pg_advisory_xact_lock's key for migrations: "cube" in ASCII, so an operator can find it in
// pg_locks. Taken inside the migrating transaction and released with it.
constexpr int64_t k_migration_lock = 0x63756265;
constexpr std::string_view k_connect_timeout_s = "10";
constexpr int k_backoff_first_ms = 2;
constexpr int k_backoff_max_ms = 200;

// PostgreSQL's type OIDs (server/catalog/pg_type_d.h, which libpq-dev does not ship).
constexpr Oid k_int8_oid = 20;
constexpr Oid k_float8_oid = 701;
constexpr Oid k_text_oid = 25;

struct Finish {
  void operator()(PGconn* c) const { libpq().PQfinish(c); }
};
struct Clear {
  void operator()(PGresult* r) const { libpq().PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, Finish>;
using ResultPtr = std::unique_ptr<PGresult, Clear>;

// A serialization failure or deadlock: the transaction is rolled back and its body run again.
class Retryable : public Error {
 public:
  using Error::Error;
};

// libpq's messages span lines ("…failed: No such file or directory\n\tIs the server running…");
// an error line is one line. The password is cut out in every form it has (`secrets`): libpq
// echoes the URL as written when it cannot parse it.
std::string one_line(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out;
  bool line_break = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      line_break = true;
      continue;
    }
    if (c == '\t') {
      if (!line_break) out += ' ';  // a continuation line's indent goes; a tab within a line is a space
      continue;
    }
    if (line_break && !out.empty()) out += "; ";
    line_break = false;
    out += c;
  }
  for (const std::string& secret : secrets)
    for (size_t at; !secret.empty() && (at = out.find(secret)) != std::string::npos;)
      out.replace(at, secret.size(), "***");
  return out;
}

// The highest $N in `sql`, outside quoted text and names. PostgreSQL accepts more parameters than
// a statement uses when their types are given (they are, here), where SQLite refuses them: this
// check makes a statement that one backend takes the other takes too.
int highest_parameter(std::string_view sql) {
  int highest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '1' && sql[i + 1] <= '9') {
      int n = 0;
      while (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9' && n < 100000) n = n * 10 + (sql[++i] - '0');
      highest = std::max(highest, n);
    }
  }
  return highest;
}

bool is_serialization_failure(std::string_view state) { return state == "40001" || state == "40P01"; }

// The server shut down or crashed, or the link broke: the connection is gone.
bool is_connection_loss(std::string_view state) {
  return state.starts_with("57P") || (state.starts_with("08") && state != "08P01");
}

class PgStore;

class PgRows final : public Rows::Source {
 public:
  explicit PgRows(ResultPtr r) : m_result(std::move(r)), m_count(libpq().PQntuples(m_result.get())) {}
  bool next() override { return ++m_row < m_count; }
  int64_t integer(int c) const override {
    std::string_view v = text(c);
    if (v == "t") return 1;
    if (v == "f") return 0;
    int64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc() && end == v.data() + v.size()) return out;
    return static_cast<int64_t>(real(c));  // numeric (SUM of BIGINT) or a real read as an integer
  }
  double real(int c) const override {
    return is_null(c) ? 0 : std::strtod(libpq().PQgetvalue(m_result.get(), m_row, c), nullptr);
  }
  std::string_view text(int c) const override {
    return {libpq().PQgetvalue(m_result.get(), m_row, c),
            static_cast<size_t>(libpq().PQgetlength(m_result.get(), m_row, c))};
  }
  bool is_null(int c) const override { return libpq().PQgetisnull(m_result.get(), m_row, c) != 0; }

 private:
  ResultPtr m_result;
  int m_count;
  int m_row = -1;
};

class PgStore final : public Store {
 public:
  PgStore(const std::string& url, Access access);
  Backend backend() const override { return Backend::postgresql; }
  const std::string& where() const override { return m_where; }
  int schema_version() const override { return m_schema_version; }
  void write(const Body& body) override;
  void read(const Body& body) override;
  int64_t do_write_one(std::string_view sql, ParamSpan params) override;

  // Runs one statement with parameters; its result, or the Error it is.
  ResultPtr run(std::string_view sql, ParamSpan params, std::string_view doing);
  // A statement without parameters and without rows (BEGIN, COMMIT, SET, the migrations' text).
  void command(std::string_view sql, std::string_view doing);

 private:
  // Connects, migrates, and makes a reader's session read-only: at open, and again at the start
  // of a transaction once the connection was lost, so that a long-running tool (a place --batch)
  // outlives a server restart.
  void open_session();
  void connect(const std::string& url);
  // libpq's reason, or `why` when the failure is ours (a timeout).
  [[noreturn]] void connection_failed(const std::string& why = "");
  int connect_timeout_s() const;
  [[noreturn]] void raise(const PGresult* r, std::string_view doing);
  void migrate();
  int recorded_version();
  void refuse_newer(int found) const;
  void run_once(std::string_view begin, const Body& body);
  void reopen_if_lost();
  // Runs attempt until it does not fail to serialize, at most k_max_attempts times.
  void retried(const std::function<void()>& attempt);
  void rollback();
  void backoff(int attempt);

  const std::string m_url;  // for open_session() after a loss; never printed (m_where is)
  const Access m_access;
  ConnPtr m_conn;
  std::string m_where;
  std::vector<std::string> m_secrets;  // every password, as written and decoded (secrets_of)
  int m_schema_version = 0;
  bool m_in_tx = false;
  bool m_committing = false;
  bool m_lost = false;   // the connection failed: open_session() before the next transaction
  bool m_retry = false;  // a serialization failure happened in this attempt, whatever body did with it
  std::minstd_rand m_random{std::random_device{}()};
};

class PgTx final : public Tx {
 public:
  explicit PgTx(PgStore& store) : m_store(store) {}
  Rows do_query(std::string_view sql, ParamSpan params) override {
    return Rows(std::make_unique<PgRows>(m_store.run(sql, params, "a query")));
  }
  int64_t do_exec(std::string_view sql, ParamSpan params) override {
    ResultPtr r = m_store.run(sql, params, "a statement");
    const char* n = libpq().PQcmdTuples(r.get());
    return *n ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  PgStore& m_store;
};

PgStore::PgStore(const std::string& url, Access access)
    : m_url(url), m_access(access), m_where(redacted(url)), m_secrets(secrets_of(url)) {
  open_session();
}

void PgStore::open_session() {
  connect(m_url);
  migrate();
  if (m_access == Access::read) command("SET default_transaction_read_only = on", "opening for reading");
  if (m_access == Access::write) command("SET default_transaction_isolation = serializable", "opening for writing");
}

// Started without blocking and driven here, so that the notice processor is in place before the
// server can say anything: a server may send a WARNING during start-up (one shutting down says
// "terminating connection due to immediate shutdown command"), which libpq's default processor
// would print raw on stderr. PQconnectPoll leaves connect_timeout to the caller: it is applied to
// the whole start-up.
void PgStore::connect(const std::string& url) {
  // The URL's own connect_timeout wins: with expand_dbname, later values override earlier ones.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  std::string timeout(k_connect_timeout_s);
  const char* values[] = {timeout.c_str(), "cube", url.c_str(), nullptr};
  m_conn.reset(libpq().PQconnectStartParams(keys, values, 1));
  if (!m_conn)
    throw Error(Exit::failed, fmt::format("cannot connect to the cluster database {}", m_where), "out of memory");
  // libpq prints NOTICEs on stderr ("relation … already exists, skipping"); they are debug here.
  libpq().PQsetNoticeProcessor(
      m_conn.get(), [](void*, const char* message) { log::debug("cluster database: {}", std::string_view(message)); },
      nullptr);
  if (libpq().PQstatus(m_conn.get()) == CONNECTION_BAD) connection_failed();
  int timeout_s = connect_timeout_s();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (PostgresPollingStatusType polled = PGRES_POLLING_WRITING; polled != PGRES_POLLING_OK;) {
    if (polled == PGRES_POLLING_FAILED || libpq().PQsocket(m_conn.get()) < 0) connection_failed();
    pollfd p{libpq().PQsocket(m_conn.get()), static_cast<short>(polled == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    int ready = ::poll(&p, 1, timeout_s > 0 ? static_cast<int>(std::max<int64_t>(left, 0)) : -1);
    if (ready < 0 && errno != EINTR) connection_failed(fmt::format("poll: {}", std::strerror(errno)));
    if (ready == 0) connection_failed(fmt::format("timeout expired after {} s (connect_timeout)", timeout_s));
    if (ready > 0) polled = libpq().PQconnectPoll(m_conn.get());
  }
}

// The connection's connect_timeout in seconds, 0 for none, as libpq reads it: at least 2.
int PgStore::connect_timeout_s() const {
  int seconds = 0;
  if (PQconninfoOption* options = libpq().PQconninfo(m_conn.get())) {
    for (const PQconninfoOption* o = options; o->keyword; ++o)
      if (std::string_view(o->keyword) == "connect_timeout" && o->val) seconds = std::atoi(o->val);
    libpq().PQconninfoFree(options);
  }
  return seconds <= 0 ? 0 : std::max(seconds, 2);
}

void PgStore::connection_failed(const std::string& why) {
  const char* host = libpq().PQhost(m_conn.get());
  const char* port = libpq().PQport(m_conn.get());
  std::string at;
  if (host && *host == '/')
    at = fmt::format(" at socket {}/.s.PGSQL.{}", host, port && *port ? port : "5432");
  else if (host && *host)
    at = fmt::format(" at host {} port {}", host, port && *port ? port : "5432");
  throw Error(Exit::failed, fmt::format("cannot connect to the cluster database {}{}", m_where, at),
              why.empty() ? one_line(libpq().PQerrorMessage(m_conn.get()), m_secrets) : why,
              fmt::format("check that the server runs and the URL ([state] cluster or ${})", k_env));
}

void PgStore::raise(const PGresult* r, std::string_view doing) {
  const char* field = r ? libpq().PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = field ? field : "";
  // The server's words without libpq's "ERROR:  " prefix, and its detail, which names the key.
  const char* primary = r ? libpq().PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = r ? libpq().PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string why = primary ? one_line(detail ? fmt::format("{}: {}", primary, detail) : primary, m_secrets)
                            : one_line(libpq().PQerrorMessage(m_conn.get()), m_secrets);
  // An error without an SQLSTATE is libpq's own ("server closed the connection unexpectedly"),
  // which it may report before it marks the connection bad.
  if (libpq().PQstatus(m_conn.get()) == CONNECTION_BAD || state.empty() || is_connection_loss(state)) {
    m_in_tx = false;  // the server rolled it back, or never saw its end
    m_lost = true;
    throw Error(Exit::failed, fmt::format("cluster database {}: the connection was lost during {}", m_where, doing),
                why,
                m_committing ? "it went during COMMIT, so the transaction may or may not have been committed; "
                               "check before doing it again"
                             : "nothing of the transaction was written; try again once the server is back");
  }
  std::string what = fmt::format("cluster database {}: {} failed", m_where, doing);
  if (is_serialization_failure(state)) {
    m_retry = true;
    throw Retryable(Exit::conflict, what, why);
  }
  if (state.starts_with("23")) throw Error(Exit::conflict, what, why);
  if (state == "25006")
    throw Error(Exit::failed, what, why, "internal error: a write on a connection opened for reading");
  if (state == "42P01" || state == "42703")
    throw Error(Exit::failed, what, why, "the database's schema is not what this tool expects");
  throw Error(Exit::failed, what, why);
}

ResultPtr PgStore::run(std::string_view sql, ParamSpan params, std::string_view doing) {
  std::vector<std::string> texts;
  texts.reserve(params.size());
  std::vector<const char*> values;
  std::vector<Oid> types;
  for (const Param& p : params) {
    switch (p.kind()) {
      case Param::Kind::null:
        values.push_back(nullptr);
        types.push_back(0);  // the server infers it
        continue;
      case Param::Kind::integer:
        texts.push_back(std::to_string(p.integer()));
        types.push_back(k_int8_oid);
        break;
      case Param::Kind::real:
        texts.push_back(fmt::format("{}", p.real()));
        types.push_back(k_float8_oid);
        break;
      case Param::Kind::text:
        // libpq takes C strings: a NUL would cut the value short without a word.
        if (p.text().find('\0') != std::string_view::npos)
          throw Error(Exit::usage, "a text with a NUL byte cannot be stored in PostgreSQL");
        texts.emplace_back(p.text());
        types.push_back(k_text_oid);
        break;
    }
    values.push_back(texts.back().c_str());
  }
  std::string text(sql);
  if (int highest = highest_parameter(sql); highest != static_cast<int>(params.size()))
    throw Error(Exit::failed, fmt::format("internal error: '{}' takes {} parameters, given {}", text.substr(0, 60),
                                          highest, params.size()));
  ResultPtr r(libpq().PQexecParams(m_conn.get(), text.c_str(), static_cast<int>(values.size()), types.data(),
                                   values.data(), nullptr, nullptr, 0));
  ExecStatusType status = r ? libpq().PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    raise(r.get(), fmt::format("{} ('{}')", doing, text.substr(0, 60)));
  return r;
}

void PgStore::command(std::string_view sql, std::string_view doing) {
  std::string text(sql);
  ResultPtr r(libpq().PQexec(m_conn.get(), text.c_str()));
  ExecStatusType status = r ? libpq().PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) raise(r.get(), doing);
}

void PgStore::rollback() {
  if (!m_in_tx) return;
  m_in_tx = false;
  if (libpq().PQstatus(m_conn.get()) == CONNECTION_OK) ResultPtr(libpq().PQexec(m_conn.get(), "ROLLBACK"));
}

void PgStore::reopen_if_lost() {
  if (!m_lost && libpq().PQstatus(m_conn.get()) != CONNECTION_BAD) return;
  m_lost = false;  // first: open_session() runs transactions of its own (migrate)
  open_session();
}

// One attempt: BEGIN, body, COMMIT; anything thrown rolls back first.
void PgStore::run_once(std::string_view begin, const Body& body) {
  m_retry = false;
  m_committing = false;
  reopen_if_lost();
  command(begin, "beginning a transaction");
  m_in_tx = true;
  try {
    PgTx tx(*this);
    body(tx);
    m_committing = true;
    command("COMMIT", "committing");
    m_committing = false;
    m_in_tx = false;
  } catch (...) {
    m_committing = false;
    rollback();
    throw;
  }
}

// Full jitter on an exponential cap: writers that collided once spread out instead of colliding
// again in step.
void PgStore::backoff(int attempt) {
  int cap = std::min(k_backoff_max_ms, k_backoff_first_ms << std::min(attempt, 16));
  int ms = std::uniform_int_distribution<int>(cap / 2, cap)(m_random);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void PgStore::write(const Body& body) {
  retried([&] { run_once("BEGIN ISOLATION LEVEL SERIALIZABLE", body); });
}

// The session's default isolation is SERIALIZABLE (open_session), so the statement alone is a
// serializable transaction; lost during it, it is as a COMMIT lost: maybe committed.
int64_t PgStore::do_write_one(std::string_view sql, ParamSpan params) {
  int64_t changed = 0;
  retried([&] {
    m_retry = false;
    reopen_if_lost();
    m_committing = true;
    try {
      ResultPtr r = run(sql, params, "a statement");
      const char* n = libpq().PQcmdTuples(r.get());
      changed = *n ? std::strtoll(n, nullptr, 10) : 0;
    } catch (...) {
      m_committing = false;
      throw;
    }
    m_committing = false;
  });
  return changed;
}

void PgStore::retried(const std::function<void()>& attempt_once) {
  for (int attempt = 1;; ++attempt) {
    try {
      attempt_once();
      return;
    } catch (const Error& e) {
      // m_retry, not the type: body may have caught the failure and thrown something else.
      if (!m_retry) throw;
      if (attempt >= k_max_attempts)
        throw Error(Exit::conflict,
                    fmt::format("cluster database {}: the transaction met a conflicting one {} times in a row", m_where,
                                attempt),
                    e.why(), "other writers kept changing what it read; try again");
      log::debug("cluster database {}: serialization failure, attempt {} of {}", m_where, attempt, k_max_attempts);
      backoff(attempt);
    }
  }
}

// A read-only snapshot: repeatable read needs no retry, and a read never blocks a writer.
void PgStore::read(const Body& body) { run_once("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body); }

int PgStore::recorded_version() {
  ResultPtr exists = run("SELECT to_regclass('cube_schema_version') IS NOT NULL", {}, "reading the schema version");
  if (std::string_view(libpq().PQgetvalue(exists.get(), 0, 0)) != "t") return 0;
  ResultPtr v = run("SELECT COALESCE(MAX(version), 0) FROM cube_schema_version", {}, "reading the schema version");
  return std::atoi(libpq().PQgetvalue(v.get(), 0, 0));
}

void PgStore::refuse_newer(int found) const {
  state::refuse_newer_schema(fmt::format("cluster database {}", m_where), found, latest_pg_schema_version());
}

// Two tools connecting at once: both may see an old version, but only one at a time holds the
// advisory lock, and the second reads the version again under it and finds nothing left to do.
void PgStore::migrate() {
  m_schema_version = recorded_version();
  refuse_newer(m_schema_version);
  if (m_schema_version >= latest_pg_schema_version()) return;
  run_once("BEGIN", [&](Tx&) {
    command(fmt::format("SELECT pg_advisory_xact_lock({})", k_migration_lock), "waiting for the migration lock");
    command(
        "CREATE TABLE IF NOT EXISTS cube_schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_ms BIGINT NOT NULL)",
        "creating cube_schema_version");
    m_schema_version = recorded_version();
    refuse_newer(m_schema_version);
    for (size_t i = 0; i < state::k_pg_migration_count; ++i) {
      const state::Migration& m = state::k_pg_migrations[i];
      if (m.number <= m_schema_version) continue;
      command(m.sql, fmt::format("migration pg/{:04}_{}", m.number, m.name));
      const Param row[] = {m.number, m.name, time::now_ms()};
      run("INSERT INTO cube_schema_version (version, name, applied_ms) VALUES ($1, $2, $3)", row,
          "recording the schema version");
      m_schema_version = m.number;
    }
  });
}

}  // namespace

std::unique_ptr<Store> open_postgresql(const std::string& url, Access access) {
  return std::make_unique<PgStore>(url, access);
}

int latest_pg_schema_version() {
  return state::k_pg_migration_count == 0 ? 0 : state::k_pg_migrations[state::k_pg_migration_count - 1].number;
}

}  // namespace cube::cluster
