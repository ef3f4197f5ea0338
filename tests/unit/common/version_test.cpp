// cube::version: the build stamp of this binary, as a line and as JSON.
#include "version.hpp"
#include "testing.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace cube;

TEST(Version, CurrentStampAndLine) {
  const version::Stamp& s = version::current();
  EXPECT_FALSE(s.version.empty());
  EXPECT_FALSE(s.commit.empty());
  int64_t ns = 0;  // YYYY-MM-DDTHH:MM:SSZ, whole seconds
  EXPECT_TRUE(time::parse_rfc3339(s.build_time, ns) && s.build_time.size() == 20) << s.build_time;
  EXPECT_EQ(version::line("cube-x"), fmt::format("cube-x {} ({}) built at {}", s.version, s.commit, s.build_time));
  auto j = nlohmann::json::parse(version::json("cube-x"));
  EXPECT_EQ(j.size(), 4u);
  EXPECT_EQ(j["name"], "cube-x");
  EXPECT_EQ(j["version"], s.version);
  EXPECT_EQ(j["commit"], s.commit);
  EXPECT_EQ(j["build_time"], s.build_time);
}
