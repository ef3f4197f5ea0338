// cube::rootfs cluster targets (doc/cube-rootfs.md, "Targets from the cluster"): the [rootfs]
// node_store pattern's rules and expansion, and which registered nodes become targets, on a real
// state file.
#include "cube-rootfs/cluster_targets.hpp"
#include "error.hpp"
#include "state.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace cube;
using namespace cube::rootfs;

namespace {

void expect_refused(std::string_view pattern, std::string_view why) {
  try {
    check_node_store(pattern);
    ADD_FAILURE() << "accepted " << pattern;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage) << pattern;
    EXPECT_NE(e.message().find(why), std::string::npos) << e.message();
  }
}

void add_node(state::Db& db, std::string_view id, std::string_view type, int64_t heartbeat_ms, bool ready) {
  state::Transaction tx(db);
  db.prepare("INSERT INTO nodes (id, address, instance_type) VALUES (?, ?, ?)")
      .bind_all(id, std::string("10.0.0.") + std::string(id.substr(1)), type)
      .run();
  if (heartbeat_ms != 0)  // a node never heard from has no heartbeat row
    db.prepare("INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready) VALUES (?, ?, ?)")
        .bind_all(id, heartbeat_ms, ready ? 1 : 0)
        .run();
  tx.commit();
}

std::string nodes_of(const ClusterTargets& ct) {
  std::string out;
  for (const auto& t : ct.targets) out += t.node + "=" + t.dir + (t.local ? "(local)" : "") + " ";
  return out;
}

}  // namespace

TEST(RootfsClusterTargets, NodeStorePatternRules) {
  check_node_store("");
  check_node_store("/srv/cube/nodes/{node}/store");
  check_node_store("/mnt/{node}-rootfs/{node}");
  expect_refused("srv/{node}", "not an absolute path");
  expect_refused("/srv/cube/store", "no {node}");
  expect_refused("/srv/../{node}", "\"..\" component");
  expect_refused("/srv/./{node}", "\".\" component");
  expect_refused("/srv/{node}/..", "\"..\" component");
  expect_refused("/srv/{address}/{node}", "the only placeholder is {node}");
  expect_refused("/srv/{node", "no {node}");
  expect_refused("/srv/{node}}", "the only placeholder is {node}");
  expect_refused("/srv/\n/{node}", "control character");
  expect_refused("/" + std::string(5000, 'a') + "{node}", "longer than");
}

TEST(RootfsClusterTargets, ExpandsEveryPlaceholder) {
  EXPECT_EQ(expand_node_store("/srv/{node}/store", "n1"), "/srv/n1/store");
  EXPECT_EQ(expand_node_store("/mnt/{node}-x/{node}", "a_b"), "/mnt/a_b-x/a_b");
}

TEST(RootfsClusterTargets, HealthyNodesOfTheTypeInScope) {
  test::TempDir tmp;
  state::Db db = state::Db::open(tmp.path() + "/state.db", state::Access::write);
  int64_t now = 1'000'000'000;
  add_node(db, "n1", "cubebox", now - 1000, true);     // healthy
  add_node(db, "n2", "cubebox", now - 120'000, true);  // heartbeat too old
  add_node(db, "n3", "gpu", now, true);                // another type
  add_node(db, "n4", "cubebox", now, false);           // reported not ready
  add_node(db, "n5", "cubebox", now, true);            // healthy: this node
  ClusterQuery q{"cubebox", {}, "/local/store", {"n5", "/srv/{node}/store", 40'000, ""}, now};
  ClusterTargets ct = cluster_targets(db, q);
  EXPECT_EQ(nodes_of(ct), "n1=/srv/n1/store n5=/local/store(local) ");
  EXPECT_EQ(ct.targets[0].address, "10.0.0.1");
  EXPECT_EQ(explain(ct.excluded),
            "n2: unhealthy (HeartbeatExpired); n3: instance type gpu, not cubebox; n4: unhealthy (ReportedNotReady)");
  EXPECT_EQ(explain(ct.excluded, 1), "n2: unhealthy (HeartbeatExpired); and 2 more (-v lists them)");

  // The scope narrows, and a scoped node left out or not registered is named, flagged.
  q.scope = {"n1", "n2", "n9"};
  ct = cluster_targets(db, q);
  EXPECT_EQ(nodes_of(ct), "n1=/srv/n1/store ");
  ASSERT_EQ(ct.excluded.size(), 5u);
  EXPECT_TRUE(ct.excluded[0].scoped);  // n2
  EXPECT_EQ(ct.excluded[1].why, "not in the template's node scope");
  EXPECT_FALSE(ct.excluded[1].scoped);
  EXPECT_EQ(ct.excluded[4].node, "n9");
  EXPECT_EQ(ct.excluded[4].why, "in the template's node scope but not registered");

  // Without node_store only this node has a store.
  q.scope = {};
  q.settings.node_store = "";
  ct = cluster_targets(db, q);
  EXPECT_EQ(nodes_of(ct), "n5=/local/store(local) ");
  EXPECT_EQ(ct.excluded[0].why, "no store directory ([rootfs] node_store is not set)");
}

TEST(RootfsClusterTargets, NoNodeRegistered) {
  test::TempDir tmp;
  state::Db db = state::Db::open(tmp.path() + "/state.db", state::Access::write);
  ClusterTargets ct = cluster_targets(db, {"cubebox", {}, "/s", {"me", "/srv/{node}", 40'000, ""}, 1});
  EXPECT_TRUE(ct.targets.empty());
  EXPECT_EQ(explain(ct.excluded), "no node is registered");
}
