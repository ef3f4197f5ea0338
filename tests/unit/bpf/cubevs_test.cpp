// The data-path programs, loaded by the kernel's verifier with its default limits and fed crafted
// frames through BPF_PROG_TEST_RUN: verdicts, rewritten bytes, checksums and counters.
//
// The test binary moves itself into a network namespace of its own (needs root), where a veth pair
// plays the uplink and another the TAP, so that ifindexes, routes and neighbours are real.
#include "harness.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace cube::test {
namespace {

Mac mac_at(const Bytes& b, size_t at) {
  Mac m;
  std::copy_n(b.begin() + static_cast<long>(at), 6, m.begin());
  return m;
}

class CubeVs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() == 0) s_namespace = DataPath::enter_namespace();
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, makes a network namespace)";
    ASSERT_EQ(s_namespace, "");
    m_path = std::make_unique<DataPath>();
  }

  Verdict from_cube(const Bytes& in) { return m_path->from_cube(in); }
  Verdict to_cube(const Bytes& in) { return m_path->to_cube(in); }
  Verdict from_world(const Bytes& in) { return m_path->from_world(in); }
  tap_counters counters(uint32_t ifindex = DataPath::tap()) { return m_path->counters(ifindex); }

  std::unique_ptr<DataPath> m_path;
  static inline std::string s_namespace;
};

// --- from_cube ----------------------------------------------------------------------------------

TEST_F(CubeVs, AnswersTheGuestsArpForItsGateway) {
  Verdict r = from_cube(arp_request(k_guest_mac, k_guest, k_gateway));
  ASSERT_EQ(r.verdict, TC_ACT_REDIRECT);
  EXPECT_EQ(mac_at(r.out, 0), k_guest_mac);              // back to the guest
  EXPECT_EQ(mac_at(r.out, 6), k_gateway_mac);            // from the gateway
  EXPECT_EQ(r.out[14 + 7], 2);                           // a reply
  EXPECT_EQ(mac_at(r.out, 22), k_gateway_mac);           // sender MAC
  EXPECT_EQ(std::memcmp(&r.out[28], &k_gateway, 4), 0);  // sender IP
  EXPECT_EQ(mac_at(r.out, 32), k_guest_mac);             // target MAC
  EXPECT_EQ(std::memcmp(&r.out[38], &k_guest, 4), 0);    // target IP
  EXPECT_EQ(counters().arp_reply, 1u);
}

TEST_F(CubeVs, DropsArpForAnythingButTheGatewayAndNonIpv4) {
  EXPECT_EQ(from_cube(arp_request(k_guest_mac, k_guest, ip("169.254.68.7"))).verdict, TC_ACT_SHOT);
  Bytes reply = arp_request(k_guest_mac, k_guest, k_gateway);
  reply[14 + 7] = 2;
  EXPECT_EQ(from_cube(reply).verdict, TC_ACT_SHOT);
  Frame v6 = guest_frame(6, k_far);
  v6.ethertype = 0x86dd;
  EXPECT_EQ(from_cube(build(v6)).verdict, TC_ACT_SHOT);
}

TEST_F(CubeVs, DropsFramesFromAnUnknownTap) {
  EXPECT_EQ(m_path->from_cube_on(DataPath::uplink(), build(guest_frame(6, k_far))).verdict, TC_ACT_SHOT);
  EXPECT_EQ(counters(DataPath::uplink()).rewritten, 0u);
}

TEST_F(CubeVs, RewritesTheGuestAddressWithValidChecksumsForTcpUdpIcmp) {
  for (uint8_t proto : {6, 17, 1}) {
    Verdict r = from_cube(build(guest_frame(proto, k_far)));
    ASSERT_EQ(r.verdict, TC_ACT_OK) << int(proto);
    Parsed p = parse(r.out);
    EXPECT_EQ(p.saddr, k_sandbox) << int(proto);
    EXPECT_EQ(p.daddr, k_far) << int(proto);
    EXPECT_TRUE(checksums_ok(r.out)) << int(proto);
  }
  EXPECT_EQ(counters().rewritten, 3u);
}

TEST_F(CubeVs, AZeroUdpChecksumStaysZero) {
  Frame f = guest_frame(17, k_far);
  f.udp_zero_csum = true;
  Verdict r = from_cube(build(f));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).saddr, k_sandbox);
  EXPECT_EQ(parse(r.out).l4_csum, 0);
  EXPECT_TRUE(checksums_ok(r.out));
}

TEST_F(CubeVs, FragmentsKeepTheirPayloadAndTheFirstCarriesTheNewPseudoHeaderSum) {
  // The first fragment's UDP checksum covers the whole datagram: compare it with the checksum of
  // the same datagram built from the sandbox address.
  Frame whole = guest_frame(17, k_far);
  Frame expect = whole;
  expect.saddr = k_sandbox;
  uint16_t want = parse(build(expect)).l4_csum;
  Frame first = whole;
  first.frag = 0x2000;  // MF, offset 0
  Verdict r = from_cube(build(first));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).l4_csum, want);

  Frame later = whole;
  later.frag = 0x0010;  // offset 128: no UDP header here
  Bytes in = build(later);
  r = from_cube(in);
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).saddr, k_sandbox);
  EXPECT_TRUE(checksums_ok(r.out));
  EXPECT_TRUE(std::equal(in.begin() + 34, in.end(), r.out.begin() + 34));  // the payload untouched
}

// (A frame shorter than Ethernet + 20 bytes of IPv4 cannot be fed here: BPF_PROG_TEST_RUN refuses it
// with EINVAL before the program runs. from_cube's loads fail on it and it drops.)
TEST_F(CubeVs, DropsTruncatedHeadersAndSpoofedSources) {
  Bytes tcp = build(guest_frame(6, k_far));
  tcp[14] = 0x4f;  // the IPv4 header claims 60 bytes, more than the packet holds
  tcp.resize(14 + 40);
  EXPECT_EQ(from_cube(tcp).verdict, TC_ACT_SHOT);
  Frame f = guest_frame(6, k_far);
  f.payload.clear();
  Bytes cut = build(f);
  cut.resize(14 + 20 + 10);  // TCP header cut
  EXPECT_EQ(from_cube(cut).verdict, TC_ACT_SHOT);
  Frame spoof = guest_frame(6, k_far);
  spoof.saddr = ip("169.254.68.9");
  EXPECT_EQ(from_cube(build(spoof)).verdict, TC_ACT_SHOT);
  EXPECT_GE(counters().dropped, 2u);
}

TEST_F(CubeVs, TheGatewayTakesIcmpAndTcpButNotASynOrUdp) {
  Verdict r = from_cube(build(guest_frame(1, k_gateway)));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).daddr, k_node_gw);
  EXPECT_EQ(parse(r.out).saddr, k_sandbox);
  EXPECT_TRUE(checksums_ok(r.out));

  Frame ack = guest_frame(6, k_gateway);
  r = from_cube(build(ack));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).daddr, k_node_gw);
  EXPECT_TRUE(checksums_ok(r.out));

  Frame syn = ack;
  syn.tcp_flags = k_syn;
  EXPECT_EQ(from_cube(build(syn)).verdict, TC_ACT_SHOT);
  EXPECT_EQ(from_cube(build(guest_frame(17, k_gateway, 40000, 53))).verdict, TC_ACT_SHOT);
}

// --- the port-mapping fast path -------------------------------------------------------------------

TEST_F(CubeVs, ASynFromAnExposedPortIsDroppedAndCounted) {
  Frame f = guest_frame(6, k_world, k_guest_port, 50000);
  f.tcp_flags = k_syn;
  EXPECT_EQ(from_cube(build(f)).verdict, TC_ACT_SHOT);
  EXPECT_EQ(counters().syn_drop, 1u);
  f.sport = k_guest_port + 1;  // an unexposed port: the kernel path, with its policy
  Verdict r = from_cube(build(f));
  EXPECT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).saddr, k_sandbox);
}

TEST_F(CubeVs, RepliesFromAnExposedPortLeaveByTheUplinkAsTheNodesMappedPort) {
  Frame f = guest_frame(6, k_world, k_guest_port, 50000);
  f.tcp_flags = k_syn | k_ack;
  Verdict r = from_cube(build(f));
  ASSERT_EQ(r.verdict, TC_ACT_REDIRECT);
  Parsed p = parse(r.out);
  EXPECT_EQ(p.saddr, k_node);
  EXPECT_EQ(p.sport, k_host_port);
  EXPECT_EQ(p.daddr, k_world);
  EXPECT_EQ(p.dport, 50000);
  EXPECT_EQ(p.dst, k_world_mac);  // the uplink's neighbour, from the FIB
  EXPECT_TRUE(checksums_ok(r.out));
  EXPECT_EQ(counters().fast_out, 1u);
}

TEST_F(CubeVs, AFastPathPacketOverTheUplinkMtuGoesToTheKernelPath) {
  Frame f = guest_frame(6, k_world, k_guest_port, 50000);
  f.payload = Bytes(1400, 1);
  ASSERT_EQ(from_cube(build(f)).verdict, TC_ACT_REDIRECT);  // the same packet fits a 1500 MTU
  ASSERT_EQ(std::system("ip link set up0 mtu 1280"), 0);
  Verdict r = from_cube(build(f));
  EXPECT_EQ(std::system("ip link set up0 mtu 1500"), 0);
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(parse(r.out).saddr, k_sandbox);  // the kernel path's rewrite, not the fast path's
  EXPECT_EQ(parse(r.out).sport, k_guest_port);
  EXPECT_EQ(counters().fast_to_kernel, 1u);
}

// --- to_cube -----------------------------------------------------------------------------------

TEST_F(CubeVs, ToCubeAimsTheSandboxAddressAtTheGuest) {
  Frame f;
  f.dst = k_gateway_mac, f.src = k_world_mac, f.saddr = k_far, f.daddr = k_sandbox, f.proto = 6;
  f.sport = 443, f.dport = 40000, f.payload = Bytes(64, 7);
  Verdict r = to_cube(build(f));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  Parsed p = parse(r.out);
  EXPECT_EQ(p.daddr, k_guest);
  EXPECT_EQ(p.saddr, k_far);
  EXPECT_EQ(p.dst, k_guest_mac);
  EXPECT_EQ(p.src, k_gateway_mac);
  EXPECT_TRUE(checksums_ok(r.out));

  f.saddr = k_node_gw;  // a node service answers as the gateway
  r = to_cube(build(f));
  EXPECT_EQ(parse(r.out).saddr, k_gateway);
  EXPECT_TRUE(checksums_ok(r.out));
}

TEST_F(CubeVs, ToCubeLeavesGuestBoundFramesAndDropsOthers) {
  Frame f;
  f.saddr = k_world, f.daddr = k_guest, f.proto = 6, f.sport = 1, f.dport = 2;
  Bytes in = build(f);
  Verdict r = to_cube(in);
  EXPECT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(r.out, in);
  f.daddr = ip("192.168.0.3");  // another sandbox's address
  EXPECT_EQ(to_cube(build(f)).verdict, TC_ACT_SHOT);
}

TEST_F(CubeVs, ToCubeRewritesTheAddressQuotedByAnIcmpError) {
  Frame sent = guest_frame(6, k_far);
  sent.saddr = k_sandbox;
  Bytes quoted = build(sent);
  quoted.erase(quoted.begin(), quoted.begin() + 14);
  quoted.resize(28);
  Verdict r = to_cube(icmp_error(k_gateway_mac, k_world_mac, k_node, k_sandbox, 3, 4, quoted));
  ASSERT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_TRUE(checksums_ok(r.out));
  uint32_t inner_src;
  std::memcpy(&inner_src, &r.out[14 + 20 + 8 + 12], 4);
  EXPECT_EQ(inner_src, k_guest);
  Bytes inner(r.out.begin() + 42, r.out.begin() + 62);
  uint32_t acc = 0;
  for (size_t i = 0; i < 20; i += 2) acc += static_cast<uint32_t>(inner[i] << 8 | inner[i + 1]);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  EXPECT_EQ(acc, 0xffffu);  // the quoted header's own checksum is still right
}

// --- from_world ---------------------------------------------------------------------------------

TEST_F(CubeVs, FromWorldDeliversAMappedHostPortToTheGuest) {
  for (uint8_t flags : {uint8_t(k_syn), uint8_t(k_ack)}) {  // no SYN restriction inbound
    Frame f;
    f.dst = {2, 0, 0, 0, 0, 1}, f.src = k_world_mac, f.saddr = k_world, f.daddr = k_node, f.proto = 6;
    f.sport = 50000, f.dport = k_host_port, f.tcp_flags = flags, f.payload = Bytes(33, 9);
    Verdict r = from_world(build(f));
    ASSERT_EQ(r.verdict, TC_ACT_REDIRECT);
    Parsed p = parse(r.out);
    EXPECT_EQ(p.daddr, k_guest);
    EXPECT_EQ(p.dport, k_guest_port);
    EXPECT_EQ(p.saddr, k_world);
    EXPECT_EQ(p.dst, k_guest_mac);
    EXPECT_EQ(p.src, k_gateway_mac);
    EXPECT_TRUE(checksums_ok(r.out));
  }
  EXPECT_EQ(counters().fast_in, 2u);
}

TEST_F(CubeVs, FromWorldPassesEverythingElseUntouched) {
  Frame f;
  f.saddr = k_world, f.daddr = k_node, f.proto = 6, f.sport = 50000, f.dport = k_host_port + 1;
  std::vector<Frame> frames{f};
  f.dport = k_host_port, f.daddr = ip("198.51.100.7");  // another address of the node
  frames.push_back(f);
  f.daddr = k_node, f.proto = 17;  // UDP to the mapped port number
  frames.push_back(f);
  for (const Frame& each : frames) {
    Bytes in = build(each);
    Verdict r = from_world(in);
    EXPECT_EQ(r.verdict, TC_ACT_OK);
    EXPECT_EQ(r.out, in);
  }
}

}  // namespace
}  // namespace cube::test
