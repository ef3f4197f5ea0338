#include "cube-egress-rules/relay_policy.hpp"
#include "cube-egress-rules/store.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::egress;

namespace {

void add_tap(const std::string& file, const std::string& address, const char* sandbox, const char* st) {
  state::Db db = state::Db::open(file, state::Access::write);
  auto q = db.prepare(
      "INSERT INTO taps (name, address, addr_index, sandbox_id, state, created_ms, updated_ms) "
      "VALUES (?, ?, ?, ?, ?, 0, 0)");
  q.bind(1, "z" + address).bind(2, address).bind(3, static_cast<int64_t>(address.back()));
  sandbox ? q.bind(4, sandbox) : q.bind_null(4);
  q.bind(5, st).run();
}

void set(const std::string& file, const std::string& sandbox, std::string_view json) {
  state::Db db = state::Db::open(file, state::Access::write);
  state::Transaction tx(db);
  put(db, sandbox, parse_policy(json), 1);
  tx.commit();
}

constexpr uint32_t k_sb1 = 0xC0A80002, k_sb2 = 0xC0A80003, k_pooled = 0xC0A80004;

}  // namespace

TEST(EgressRelayPolicy, SandboxesAreFoundByTheirInUseAddress) {
  test::TempDir dir;
  std::string file = dir / "state.db";
  add_tap(file, "192.168.0.2", "sb1", "in_use");
  add_tap(file, "192.168.0.3", "sb2", "in_use");  // no policy: the default
  add_tap(file, "192.168.0.4", nullptr, "pooled");
  set(file, "sb1", R"({"allowInternetAccess": false, "allowOut": ["*.example.com"], "dnsServers": ["198.51.100.1"]})");
  state::Db db = state::Db::open(file, state::Access::read);
  Policies p = Policies::load(db, {});
  EXPECT_EQ(p.find(k_sb1).sandbox, "sb1");
  EXPECT_TRUE(p.find(k_sb1).policy->dns_learning);
  EXPECT_TRUE(learnable(*p.find(k_sb1).policy, "api.example.com"));
  EXPECT_EQ(p.find(k_sb2).sandbox, "sb2");
  EXPECT_FALSE(p.find(k_sb2).policy->dns_learning);
  EXPECT_EQ(p.find(k_pooled).sandbox, "");
  EXPECT_TRUE(resolver_allowed(*p.find(k_pooled).policy, 0x08080808));
}

TEST(EgressRelayPolicy, TheWatcherReloadsOnlyWhenTheStateFileChanged) {
  test::TempDir dir;
  std::string file = dir / "state.db";
  add_tap(file, "192.168.0.2", "sb1", "in_use");
  PolicyWatcher w(file, {}, 100);
  EXPECT_FALSE(w.policies().find(k_sb1).policy->dns_learning);
  EXPECT_FALSE(w.poll(1000));
  set(file, "sb1", R"({"allowInternetAccess": false, "allowOut": ["*.example.com"]})");
  EXPECT_FALSE(w.poll(1050));  // not due yet
  EXPECT_TRUE(w.poll(1100));
  EXPECT_TRUE(w.policies().find(k_sb1).policy->dns_learning);
  EXPECT_FALSE(w.poll(1200));
}
