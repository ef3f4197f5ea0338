#include "cube-egress-rules/learned_names.hpp"
#include "cube-egress-rules/proxy_confine.hpp"

#include "testing.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>

using namespace cube;
using namespace cube::egress;

namespace {

constexpr uint32_t k_a = 0xCB00710A, k_b = 0xCB00710B;  // 203.0.113.10, .11
constexpr int64_t k_now = 1'800'000'000'000;
constexpr uint32_t k_r = 0xC6336401;  // 198.51.100.1: the policy's resolver
const std::vector<uint32_t> k_rs{k_r};
// The steady clock's reading at a Unix time of the test: it starts at 0 when the wall reads k_now.
int64_t steady(int64_t wall_ms) { return wall_ms - k_now; }

}  // namespace

TEST(EgressLearnedNames, AReaderFindsWhatTheWriterFlushedForThatSandboxOnly) {
  test::TempDir dir;
  std::string path = names_path(dir / "state.db");
  EXPECT_EQ(path, dir / "state.db-names");
  NamesWriter w(path);
  NamesReader r(path);
  w.add("sb1", "api.example.com", k_r, {{k_a, 2}, {k_b, 300}}, k_now);
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)));  // queued, not yet written
  w.flush(k_now, steady(k_now));
  EXPECT_EQ(w.pending(), 0u);
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_b, k_rs, k_now + 2000, steady(k_now + 2000)));
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, k_rs, k_now + 2000, steady(k_now + 2000)));  // its TTL ran out
  EXPECT_FALSE(r.has("sb2", "api.example.com", k_a, k_rs, k_now, steady(k_now)));    // another sandbox was told nothing
  EXPECT_FALSE(r.has("sb1", "other.example.com", k_a, k_rs, k_now, steady(k_now)));  // nor of another name
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(EgressLearnedNames, OnlyWhatAResolverThePolicyNamesNowSaidCounts) {
  test::TempDir dir;
  std::string path = dir / "names";
  constexpr uint32_t k_other = 0xC6336403;  // 198.51.100.3
  NamesWriter w(path);
  NamesReader r(path);
  w.add("sb1", "api.example.com", k_r, {{k_a, 300}}, k_now);
  w.add("sb1", "api.example.com", k_other, {{k_b, 300}}, k_now);
  w.flush(k_now, steady(k_now));
  const std::vector<uint32_t> other{k_other}, both{k_r, k_other};
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)));
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, other, k_now, steady(k_now)));  // the policy dropped k_r
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_b, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_b, both, k_now, steady(k_now)));
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, {}, k_now, steady(k_now)));  // a policy with no resolver
}

// The first version kept no resolver: its rows cannot say who vouched, so they go.
TEST(EgressLearnedNames, AFileOfTheFirstVersionIsMadeAnewWithItsResolvers) {
  test::TempDir dir;
  std::string path = dir / "names";
  {
    state::Db old =
        state::Db::open(path, state::Access::write, state::Schema{"names file", names_schema().migrations.first(1)});
    old.exec("INSERT INTO learned_names VALUES ('sb1', 'api.example.com', '203.0.113.10', 9000000000000)");
  }
  NamesWriter w(path);
  NamesReader r(path);
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)));
  w.add("sb1", "api.example.com", k_r, {{k_a, 300}}, k_now);
  w.flush(k_now, steady(k_now));
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)));
  auto db = state::Db::open(path, state::Access::read, names_schema());
  auto q = db.prepare("SELECT resolver FROM learned_names");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "198.51.100.1");
}

TEST(EgressLearnedNames, ANameLearnedAgainTakesTheNewExpiry) {
  test::TempDir dir;
  std::string path = dir / "names";
  NamesWriter w(path);
  NamesReader r(path);
  w.add("sb1", "api.example.com", k_r, {{k_a, 300}}, k_now);
  w.flush(k_now, steady(k_now));
  w.add("sb1", "api.example.com", k_r, {{k_a, 5}}, k_now + 1000);
  w.flush(k_now + 1000, steady(k_now + 1000));
  EXPECT_TRUE(r.has("sb1", "api.example.com", k_a, k_rs, k_now + 5999, steady(k_now + 5999)));
  EXPECT_FALSE(r.has("sb1", "api.example.com", k_a, k_rs, k_now + 6000, steady(k_now + 6000)));
}

TEST(EgressLearnedNames, ASandboxKeepsItsNewestRowsUpToTheCap) {
  test::TempDir dir;
  std::string path = dir / "names";
  NamesWriter w(path);
  NamesReader r(path);
  w.add("sb2", "keep.example.com", k_r, {{k_a, 10}}, k_now);
  for (uint32_t i = 0; i < k_max_names_per_sandbox + 10; ++i)
    w.add("sb1", "n" + std::to_string(i) + ".example.com", k_r, {{k_a, 100 + i}}, k_now);
  w.flush(k_now, steady(k_now));
  EXPECT_FALSE(r.has("sb1", "n0.example.com", k_a, k_rs, k_now, steady(k_now)));  // nearest to expiry: trimmed
  EXPECT_FALSE(r.has("sb1", "n9.example.com", k_a, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb1", "n10.example.com", k_a, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb1", "n4105.example.com", k_a, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb2", "keep.example.com", k_a, k_rs, k_now, steady(k_now)));  // another sandbox's rows untouched
  auto db = state::Db::open(path, state::Access::read, names_schema());
  auto n = db.prepare("SELECT count(*) FROM learned_names WHERE sandbox_id = 'sb1'");
  n.step();
  EXPECT_EQ(n.integer(0), static_cast<int64_t>(k_max_names_per_sandbox));
}

TEST(EgressLearnedNames, ExpiredRowsAreSweptAndAFileOfAnotherKindIsRefused) {
  test::TempDir dir;
  std::string path = dir / "names";
  {
    NamesWriter w(path);
    w.add("sb1", "short.example.com", k_r, {{k_a, 1}}, k_now);
    w.add("sb1", "long.example.com", k_r, {{k_a, 3600}}, k_now);
    w.flush(k_now, steady(k_now));
    w.flush(k_now + k_names_sweep_ms, steady(k_now + k_names_sweep_ms));  // nothing queued: the sweep alone
  }
  auto db = state::Db::open(path, state::Access::read, names_schema());
  auto n = db.prepare("SELECT group_concat(name) FROM learned_names");
  n.step();
  EXPECT_EQ(n.text(0), "long.example.com");
  // The state file is no names file: its schema is newer than the names file's.
  std::string state = dir / "state.db";
  state::Db::open(state, state::Access::write);
  NamesReader r(state);
  EXPECT_THROW(r.has("sb1", "long.example.com", k_a, k_rs, k_now, steady(k_now)), Error);
  EXPECT_FALSE(
      r.has("sb1", "long.example.com", k_a, k_rs, k_now + 1, steady(k_now + 1)));  // till the retry: found nowhere
  try {
    r.open(steady(k_now + k_names_retry_ms));
    FAIL() << "a state file opened as a names file";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("names file"), std::string::npos) << e.message();
  }
}

TEST(EgressLearnedNames, AWriterThatMeetsALockLosesThatBatchAndDropsForASecond) {
  test::TempDir dir;
  std::string path = dir / "names";
  NamesWriter w(path);
  NamesReader r(path);
  {
    auto other = state::Db::open(path, state::Access::write, names_schema());
    state::Transaction hold(other);
    w.add("sb1", "lost.example.com", k_r, {{k_a, 30}}, k_now);
    w.flush(k_now, steady(k_now));  // gives up after k_names_busy_ms: no throw, nothing kept
    EXPECT_EQ(w.pending(), 0u);
  }
  w.add("sb1", "dropped.example.com", k_r, {{k_a, 30}}, k_now + 1);
  w.flush(k_now + 1, steady(k_now + 1));  // within the second after a failure: not even tried
  w.add("sb1", "kept.example.com", k_r, {{k_a, 30}}, k_now + k_names_retry_ms);
  w.flush(k_now + k_names_retry_ms, steady(k_now + k_names_retry_ms));
  for (const char* n : {"lost.example.com", "dropped.example.com"})
    EXPECT_FALSE(r.has("sb1", n, k_a, k_rs, k_now, steady(k_now)));
  EXPECT_TRUE(r.has("sb1", "kept.example.com", k_a, k_rs, k_now, steady(k_now)));
}

TEST(EgressLearnedNames, AFileDeletedWhileInUseIsMadeAgainAndBothSidesMoveToIt) {
  test::TempDir dir;
  std::string path = dir / "names";
  NamesWriter w(path);
  NamesReader r(path);
  w.add("sb1", "old.example.com", k_r, {{k_a, 300}}, k_now);
  w.flush(k_now, steady(k_now));
  EXPECT_TRUE(r.has("sb1", "old.example.com", k_a, k_rs, k_now, steady(k_now)));
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  int64_t later = k_now + k_names_retry_ms;
  w.add("sb1", "new.example.com", k_r, {{k_a, 300}}, later);
  w.flush(later, steady(later));
  EXPECT_TRUE(r.has("sb1", "new.example.com", k_a, k_rs, later, steady(later)));
  EXPECT_FALSE(r.has("sb1", "old.example.com", k_a, k_rs, later, steady(later)));
}

// The proxy opens the file again after it has confined itself (a file deleted and made again, one
// that could not be opened at start): with no relay running it is the file's first opener, and
// SQLite then sets up the WAL index (ftruncate) and gives its files the database's owner (fchown).
TEST(EgressLearnedNames, TheProxyOpensTheFileFirstUnderItsOwnSeccompFilter) {
  test::TempDir dir;
  std::string path = dir / "names";
  // In a child: 0 when the reader, confined, finds what it should; else what went wrong.
  auto confined_reader_finds = [&](bool want) {
    pid_t pid = ::fork();
    if (pid == 0) {
      try {
        proxy_allowlist().load();
        NamesReader r(path);
        ::_exit(r.has("sb1", "api.example.com", k_a, k_rs, k_now, steady(k_now)) == want ? 0 : 1);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        ::_exit(2);
      }
    }
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 3;
  };
  EXPECT_EQ(confined_reader_finds(false), 0) << "a file it makes";
  {
    NamesWriter w(path);
    w.add("sb1", "api.example.com", k_r, {{k_a, 300}}, k_now);
    w.flush(k_now, steady(k_now));
  }
  EXPECT_EQ(confined_reader_finds(true), 0) << "a file no other process has open";
}
