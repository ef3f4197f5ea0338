#include "cube-sched/selector.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace cube;
using namespace cube::sched;

namespace {

// The Error a selector raises, with exit 2; fails the test when it parses.
std::string usage_error(const std::string& text, std::vector<std::string> extra = {}) {
  try {
    parse_selector(text, extra);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage) << text;
    return e.message();
  }
  ADD_FAILURE() << "accepted " << text;
  return "";
}

std::string req(const std::string& key, const std::string& op, const std::string& values) {
  return R"({"key":")" + key + R"(","operator":")" + op + R"(","values":)" + values + "}";
}

}  // namespace

TEST(SchedSelector, AliasesBecomeFullKeys) {
  auto r = parse_selector(
      "[" + req("zone", "In", R"(["a","b"])") + "," + req("kubernetes.io/cpu-cores", "Gt", R"(["8"])") + "]", {});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].key, "topology.kubernetes.io/zone");
  EXPECT_EQ(r[0].op, Op::in);
  EXPECT_EQ(r[0].values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r[1].key, "kubernetes.io/cpu-cores");
  EXPECT_EQ(r[1].origin, "selector[1]");
}

TEST(SchedSelector, EmptyArrayIsNoRequirement) { EXPECT_TRUE(parse_selector("[]", {}).empty()); }

TEST(SchedSelector, SizeLimitComesFirst) {
  std::string big = "[" + std::string(4100, ' ') + "]";
  EXPECT_NE(usage_error(big).find("4096"), std::string::npos);
  std::string exact = "[" + std::string(4094, ' ') + "]";
  EXPECT_TRUE(parse_selector(exact, {}).empty());
  // Over the size limit and invalid JSON: the size is what is reported.
  EXPECT_NE(usage_error(std::string(5000, '{')).find("4096"), std::string::npos);
}

TEST(SchedSelector, RequirementCountLimit) {
  std::string items;
  for (int i = 0; i < 11; ++i) items += (i ? "," : "") + std::string("{\"bad\":1}");
  // The count is checked before any element is looked at.
  EXPECT_NE(usage_error("[" + items + "]").find("limit is 10"), std::string::npos);
  std::string ten;
  for (int i = 0; i < 10; ++i) ten += (i ? "," : "") + req("zone", "Exists", "[]");
  EXPECT_EQ(parse_selector("[" + ten + "]", {}).size(), 10u);
}

TEST(SchedSelector, ValueCountLimits) {
  std::string fifty = "[", fifty_one;
  for (int i = 0; i < 50; ++i) fifty += (i ? ",\"v" : "\"v") + std::to_string(i) + "\"";
  fifty_one = fifty + ",\"x\"]";
  fifty += "]";
  EXPECT_EQ(parse_selector("[" + req("zone", "In", fifty) + "]", {})[0].values.size(), 50u);
  std::string e = usage_error("[" + req("zone", "Exists", "[]") + "," + req("zone", "NotIn", fifty_one) + "]");
  EXPECT_NE(e.find("selector[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("limit is 50"), std::string::npos) << e;
  EXPECT_NE(usage_error("[" + req("zone", "In", "[]") + "]").find("selector[0]: In needs 1 to 50"), std::string::npos);
  EXPECT_NE(usage_error("[" + req("zone", "Exists", R"(["a"])") + "]").find("takes no values"), std::string::npos);
  EXPECT_NE(usage_error("[" + req("zone", "DoesNotExist", R"(["a"])") + "]").find("takes no values"),
            std::string::npos);
  EXPECT_NE(usage_error("[" + req("cpu-cores", "Gt", R"(["1","2"])") + "]").find("exactly one"), std::string::npos);
  EXPECT_NE(usage_error("[" + req("cpu-cores", "Lt", "[]") + "]").find("exactly one"), std::string::npos);
}

TEST(SchedSelector, GtAndLtOnlyOnQuantityKeys) {
  std::string e = usage_error("[" + req("zone", "Gt", R"(["1"])") + "]");
  EXPECT_NE(e.find("selector[0]: Gt on \"topology.kubernetes.io/zone\", which is not a quantity"), std::string::npos)
      << e;
  EXPECT_NE(usage_error("[" + req("rack", "Lt", R"(["1"])") + "]", {"rack"}).find("not a quantity"), std::string::npos);
  EXPECT_EQ(parse_selector("[" + req("memory-size", "Lt", R"(["64Gi"])") + "]", {}).size(), 1u);
  EXPECT_EQ(parse_selector("[" + req("kubernetes.io/cpu-cores", "Gt", R"(["8"])") + "]", {}).size(), 1u);
}

TEST(SchedSelector, KeysAndOperators) {
  EXPECT_NE(usage_error("[" + req("rack", "In", R"(["a"])") + "]").find("\"rack\" is not allowed"), std::string::npos);
  EXPECT_EQ(parse_selector("[" + req("rack", "In", R"(["a"])") + "]", {"rack"})[0].key, "rack");
  EXPECT_NE(usage_error("[" + req("", "In", R"(["a"])") + "]").find("non-empty"), std::string::npos);
  EXPECT_NE(usage_error("[" + req("zone", "in", R"(["a"])") + "]").find("unsupported operator \"in\""),
            std::string::npos);
  EXPECT_NE(usage_error(R"([{"key":"zone","operator":"In","values":[1]}])").find("array of strings"),
            std::string::npos);
  EXPECT_NE(usage_error("{}").find("not a JSON array"), std::string::npos);
  EXPECT_NE(usage_error("[1]").find("selector[0]"), std::string::npos);
  // Cut short is a syntax error with its place, not "not an array".
  EXPECT_NE(usage_error("[").find("not valid JSON: syntax error at byte 2"), std::string::npos);
}

TEST(SchedSelector, ColonAnnotations) {
  auto r = requirements_from({{"com.nodeaffinity.instancetype", "c1:c2::"}, {"com.nodeaffinity.cluster.label", "k1"}},
                             nullptr, {});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].key, "topology.kubernetes.io/cluster-id");
  EXPECT_EQ(r[0].values, (std::vector<std::string>{"k1"}));
  EXPECT_EQ(r[1].key, "kubernetes.io/instance-type");
  EXPECT_EQ(r[1].values, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_THROW(requirements_from({{"com.nodeaffinity.instancetype", ":::"}}, nullptr, {}), Error);
  std::string flag = "[]";
  EXPECT_THROW(requirements_from({{"com.nodeaffinity.selector", "[]"}}, &flag, {}), Error);
  EXPECT_TRUE(requirements_from({{"other.annotation", "x"}}, &flag, {}).empty());
}
