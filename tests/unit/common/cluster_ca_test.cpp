#include "cluster_ca.hpp"

#include <gtest/gtest.h>

using namespace cube;

TEST(ClusterCa, BesideTheConfigFile) {
  auto cfg = config::Config::parse("", "/srv/cube/cube.toml");
  cluster_ca::Paths p = cluster_ca::paths(cfg);
  EXPECT_EQ(p.dir, "/srv/cube/ca");
  EXPECT_EQ(p.cert, "/srv/cube/ca/cube-root-ca.crt");
  EXPECT_EQ(p.key, "/srv/cube/ca/cube-root-ca.key");
  EXPECT_EQ(cluster_ca::paths(config::Config::parse("", "/dev/null")).cert, "/etc/cube/ca/cube-root-ca.crt");
}
