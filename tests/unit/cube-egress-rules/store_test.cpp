#include "cube-egress-rules/store.hpp"
#include "cube-egress-rules/compiled.hpp"
#include "cube-egress-rules/policy.hpp"
#include "testing.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

using namespace cube;
using namespace cube::egress;

namespace {

Policy policy_of(int i) {
  return parse_policy(fmt::format(
      R"({{"rules": [{{"name": "r{0}", "match": {{"host": "h{0}.example"}},
           "action": {{"allow": true, "inject": [{{"header": "A", "secret": "secret-{0}"}}]}}}}]}})",
      i));
}

void set(const std::string& file, const std::string& sandbox, const Policy& p) {
  state::Db db = state::Db::open(file, state::Access::write);
  state::Transaction tx(db);
  put(db, sandbox, p, 1);
  tx.commit();
}

}  // namespace

TEST(EgressStore, PutGetRemoveKeepSecretsApart) {
  test::TempDir dir;
  std::string file = dir / "state.db";
  set(file, "sb-1", policy_of(1));
  state::Db db = state::Db::open(file, state::Access::read);
  auto without = get(db, "sb-1", WithSecrets::no);
  ASSERT_TRUE(without);
  EXPECT_EQ(without->revision, 1);
  EXPECT_TRUE(without->policy.rules[0].inject[0].secret.empty());
  auto with = get(db, "sb-1", WithSecrets::yes);
  EXPECT_EQ(with->policy.rules[0].inject[0].secret, "secret-1");
  EXPECT_FALSE(get(db, "sb-2", WithSecrets::no));
  state::Db w = state::Db::open(file, state::Access::write);
  EXPECT_TRUE(remove(w, "sb-1"));
  EXPECT_FALSE(remove(w, "sb-1"));
}

// Many processes set one sandbox's policy at once: each write lands whole (its secrets with it),
// none is lost (the revision counts them), and the last one's policy and secret agree.
TEST(EgressStore, ConcurrentSetFromManyProcesses) {
  test::TempDir dir;
  std::string file = dir / "state.db";
  set(file, "sb", policy_of(0));
  constexpr int k_writers = 16;
  std::vector<pid_t> pids;
  for (int i = 1; i <= k_writers; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        for (int round = 0; round < 5; ++round) set(file, "sb", policy_of(i));
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  state::Db db = state::Db::open(file, state::Access::read);
  auto st = get(db, "sb", WithSecrets::yes);  // throws if a secret does not match its policy
  ASSERT_TRUE(st);
  EXPECT_EQ(st->revision, 1 + k_writers * 5);
  const Rule& r = st->policy.rules.at(0);
  EXPECT_EQ(r.inject.at(0).secret, "secret-" + r.name.substr(1));
}
