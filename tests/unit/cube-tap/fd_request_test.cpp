#include "cube-tap/fd_request.hpp"
#include "cube-tap/owner.hpp"
#include "ipv4.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace cube;
using namespace cube::tap;

TEST(TapFdRequest, Parse) {
  auto r = parse_request(R"({"sandboxId": "sb-1", "name": "zc0a80002"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sandbox_id, "sb-1");
  EXPECT_EQ(r->name, "zc0a80002");
  r = parse_request(R"({"sandboxId": "sb-1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
  EXPECT_TRUE(parse_request(R"({"sandboxId": "sb", "name": null, "extra": 1})"));
  for (const char* bad : {"", "{", "[]", "null", R"({"name": "x"})", R"({"sandboxId": 1})",
                          R"({"sandboxId": "a", "name": 5})", "{\"sandboxId\": \"a\"} trailing"})
    EXPECT_FALSE(parse_request(bad)) << bad;
  EXPECT_FALSE(parse_request(std::string(5000, ' ') + R"({"sandboxId": "a"})")) << "over 4096 bytes";
}

TEST(TapFdRequest, Complete) {
  EXPECT_EQ(request_completeness(R"({"sandboxId": "a")"), Completeness::partial);
  EXPECT_EQ(request_completeness(R"({"sandb)"), Completeness::partial);
  EXPECT_EQ(request_completeness(""), Completeness::partial);
  EXPECT_EQ(request_completeness(R"({"sandboxId": "a"})"), Completeness::complete);
  EXPECT_EQ(request_completeness("not json}"), Completeness::invalid);
  EXPECT_EQ(request_completeness("{} {"), Completeness::invalid);
  EXPECT_TRUE(parse_request(render_request({"sb\"1", "t"}))->sandbox_id == "sb\"1");
}

TEST(TapFdRequest, Replies) {
  EXPECT_EQ(render_success(7), R"({"errCode":"0","errMsg":"Success","ifindex":7})");
  EXPECT_EQ(render_error("1001", "Parse json failed"), R"({"errCode":"1001","errMsg":"Parse json failed"})");
  auto r = parse_reply(render_success(42));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "0");
  EXPECT_EQ(r->ifindex, 42);
  EXPECT_FALSE(parse_reply("nope"));
  EXPECT_EQ(parse_reply(render_error("1002", "sandbox \"x\" not found"))->message, "sandbox \"x\" not found");
}

TEST(TapOwner, SelfIsAliveAndOthersAreNot) {
  EXPECT_TRUE(owner_alive(self_owner()));
  EXPECT_FALSE(owner_alive(""));
  EXPECT_FALSE(owner_alive("x:y"));
  EXPECT_FALSE(owner_alive(std::to_string(::getpid()) + ":1")) << "same pid, another start time";
}

TEST(TapIpv4, ParseAndFormat) {
  EXPECT_EQ(ipv4::parse_address("169.254.68.6"), 0xa9fe4406u);
  EXPECT_EQ(ipv4::format(0xa9fe4406u), "169.254.68.6");
  EXPECT_EQ(ipv4::format_mac(*ipv4::parse_mac("20:90:6F:fc:fc:fc")), "20:90:6f:fc:fc:fc");
  for (const char* bad : {"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "a.b.c.d", "1..2.3", "01.2.3.4"})
    EXPECT_FALSE(ipv4::parse_address(bad)) << bad;
  EXPECT_FALSE(ipv4::parse_mac("20:90:6f:fc:fc"));
  EXPECT_FALSE(ipv4::parse_mac("20-90-6f-fc-fc-fc"));
}
