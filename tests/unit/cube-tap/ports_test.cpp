#include "cube-tap/ports.hpp"
#include "cube-tap/node_setup.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::tap;

TEST(TapPorts, Requests) {
  auto r = parse_port_requests({"9090", "8080:20080", "9090:25000"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (PortRequest{8080, 20080}));
  EXPECT_EQ(r[1], (PortRequest{9090, 25000})) << "the last of a repeated container port wins";
  EXPECT_TRUE(parse_port_requests({}).empty());
  for (const char* bad : {"0", "65536", "x", "80:", ":80", "80:0", "80:99999", "-1", "80:80:80", " 80", "080"}) {
    try {
      parse_port_requests({bad});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage);
      EXPECT_NE(std::string(e.what()).find("--port"), std::string::npos);
    }
  }
  EXPECT_THROW(parse_port_requests(std::vector<std::string>(65, "80")), Error);
}

TEST(TapPorts, ReservedList) {
  auto r = parse_reserved_ports("8080,20001-20003, 29999,30000-40000\n");
  EXPECT_EQ(r, (std::set<uint32_t>{20001, 20002, 20003, 29999}));
  EXPECT_TRUE(parse_reserved_ports("").empty());
  EXPECT_TRUE(parse_reserved_ports("\n").empty());
  for (const char* bad : {"a", "1-", "5-3", "1,,2", "70000"}) EXPECT_THROW(parse_reserved_ports(bad), Error) << bad;
}

TEST(TapPorts, NextPortHonoursReserved) {
  std::set<uint32_t> used;
  OpenScan none = [&used](uint32_t from) -> UsedScan {
    auto it = std::make_shared<std::set<uint32_t>::const_iterator>(used.lower_bound(from));
    return [&used, it]() -> std::optional<uint32_t> {
      if (*it == used.end()) return std::nullopt;
      return *(*it)++;
    };
  };
  EXPECT_EQ(next_port(19999, none, {}), 20000u);
  EXPECT_EQ(next_port(19999, none, {20000, 20001}), 20002u);
  EXPECT_EQ(next_port(29999, none, {}), 20000u) << "wraps";
  used = {20000, 20002};
  EXPECT_EQ(next_port(19999, none, {20001}), 20003u);
}

TEST(TapPorts, EphemeralRangeKeptOff) {
  EXPECT_FALSE(ephemeral_range_off_mapped({32768, 60999})) << "the Linux default misses it";
  EXPECT_FALSE(ephemeral_range_off_mapped({10000, 19999}));
  EXPECT_EQ(ephemeral_range_off_mapped({1024, 65535}), (PortRange{30000, 65535}));
  EXPECT_EQ(ephemeral_range_off_mapped({10000, 29000}), (PortRange{10000, 19999}));
  EXPECT_EQ(ephemeral_range_off_mapped({19500, 30500}), (PortRange{10000, 19999})) << "neither side holds 1024";
  EXPECT_EQ(parse_port_range("32768\t60999\n"), (PortRange{32768, 60999}));
  EXPECT_FALSE(parse_port_range("60999 32768"));
  EXPECT_FALSE(parse_port_range("x"));
}

TEST(TapNft, MasqueradeIsOneTableOnly) {
  std::string rules = masquerade_ruleset(parse_cidr("192.168.0.0/18", "--cidr"), "up0");
  EXPECT_NE(rules.find("ip saddr 192.168.0.0/18 oifname \"up0\" masquerade"), std::string::npos);
  EXPECT_EQ(rules.find("flush ruleset"), std::string::npos);
  for (size_t pos = 0; (pos = rules.find("table ", pos)) != std::string::npos; ++pos)
    EXPECT_EQ(rules.compare(pos, 19, "table inet cube_tap"), 0) << rules;
}
