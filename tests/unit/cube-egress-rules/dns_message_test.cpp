#include "cube-egress-rules/dns_message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace cube::egress::dns;

namespace {

using Bytes = std::vector<uint8_t>;

void u16(Bytes& b, uint16_t v) {
  b.push_back(v >> 8);
  b.push_back(v & 0xFF);
}
void u32(Bytes& b, uint32_t v) {
  u16(b, v >> 16);
  u16(b, v & 0xFFFF);
}
void name(Bytes& b, std::string_view n) {
  size_t start = 0;
  while (start < n.size()) {
    size_t dot = n.find('.', start);
    if (dot == std::string_view::npos) dot = n.size();
    b.push_back(static_cast<uint8_t>(dot - start));
    b.insert(b.end(), n.begin() + start, n.begin() + dot);
    start = dot + 1;
  }
  b.push_back(0);
}
Bytes header(uint16_t qd, uint16_t an, uint16_t flags = 0x8180) {
  Bytes b;
  u16(b, 0x1234);
  u16(b, flags);
  u16(b, qd);
  u16(b, an);
  u16(b, 0);
  u16(b, 0);
  return b;
}
void question(Bytes& b, std::string_view n) {
  name(b, n);
  u16(b, k_type_a);
  u16(b, k_class_in);
}
void a_record(Bytes& b, std::string_view n, uint32_t ttl, uint32_t addr) {
  name(b, n);
  u16(b, k_type_a);
  u16(b, k_class_in);
  u32(b, ttl);
  u16(b, 4);
  u32(b, addr);
}
void cname_record(Bytes& b, std::string_view n, uint32_t ttl, std::string_view target) {
  name(b, n);
  u16(b, k_type_cname);
  u16(b, k_class_in);
  u32(b, ttl);
  Bytes t;
  name(t, target);
  u16(b, static_cast<uint16_t>(t.size()));
  b.insert(b.end(), t.begin(), t.end());
}

}  // namespace

TEST(DnsMessage, HeaderQuestionAndAnswers) {
  Bytes b = header(1, 2);
  question(b, "Api.Example.COM");
  a_record(b, "api.example.com", 300, 0xC6336407);
  a_record(b, "api.example.com", 60, 0xC6336408);
  auto m = parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.id, 0x1234);
  EXPECT_TRUE(m->header.response());
  EXPECT_EQ(m->header.rcode(), 0);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "api.example.com");
  EXPECT_EQ(m->questions[0].type, k_type_a);
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[1].ttl, 60u);
  EXPECT_EQ(a_records(*m, "api.example.com"), (std::vector<Address>{{0xC6336407, 300}, {0xC6336408, 60}}));
}

TEST(DnsMessage, CompressedNamesAreFollowed) {
  Bytes b = header(1, 1);
  question(b, "www.example.com");  // at offset 12
  b.insert(b.end(), {0xC0, 12});   // the answer's name points at the question's
  u16(b, k_type_a);
  u16(b, k_class_in);
  u32(b, 30);
  u16(b, 4);
  u32(b, 0x01020304);
  auto m = parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->answers[0].name, "www.example.com");
  // A name made of labels and then a pointer into another name.
  Bytes c = header(1, 1);
  question(c, "example.com");
  c.insert(c.end(), {3, 'w', 'w', 'w', 0xC0, 12});
  u16(c, k_type_a);
  u16(c, k_class_in);
  u32(c, 30);
  u16(c, 4);
  u32(c, 0x01020304);
  m = parse(c);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->answers[0].name, "www.example.com");
}

TEST(DnsMessage, CnameChainsGiveTheTargetsAddressesWithTheSmallestTtl) {
  Bytes b = header(1, 4);
  question(b, "a.example.com");
  cname_record(b, "a.example.com", 100, "b.cdn.net");
  cname_record(b, "b.cdn.net", 20, "c.cdn.net");
  a_record(b, "c.cdn.net", 300, 0x0A000001);
  a_record(b, "other.net", 300, 0x0A000002);  // not on the chain
  auto m = parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->answers[0].target, "b.cdn.net");
  EXPECT_EQ(a_records(*m, "a.example.com"), (std::vector<Address>{{0x0A000001, 20}}));
  EXPECT_TRUE(a_records(*m, "nothing.example").empty());
}

TEST(DnsMessage, CnameLoopEnds) {
  Bytes b = header(1, 2);
  question(b, "a.x");
  cname_record(b, "a.x", 10, "b.x");
  cname_record(b, "b.x", 10, "a.x");
  auto m = parse(b);
  ASSERT_TRUE(m);
  EXPECT_TRUE(a_records(*m, "a.x").empty());
}

TEST(DnsMessage, CompressionLoopsAreRefused) {
  Bytes self = header(1, 0);
  self.insert(self.end(), {0xC0, 12});  // points at itself
  u16(self, 1);
  u16(self, 1);
  EXPECT_FALSE(parse(self));
  Bytes forward = header(1, 0);
  forward.insert(forward.end(), {0xC0, 16, 0, 0, 1, 0});  // points forwards
  EXPECT_FALSE(parse(forward));
  // Two names pointing at each other: the second pointer does not point before the first.
  Bytes pair = header(1, 0);
  pair.insert(pair.end(), {1, 'a', 0xC0, 16, 1, 'b', 0xC0, 12, 0, 1, 0, 1});
  EXPECT_FALSE(parse(pair));
}

TEST(DnsMessage, TruncationAndBadCountsAreRefused) {
  Bytes b = header(1, 1);
  question(b, "www.example.com");
  a_record(b, "www.example.com", 30, 0x01020304);
  for (size_t n = 0; n < b.size(); ++n) EXPECT_FALSE(parse(std::span(b.data(), n))) << n;
  EXPECT_TRUE(parse(b));
  Bytes many = header(65535, 65535);
  EXPECT_FALSE(parse(many));
  Bytes short_a = header(0, 1);
  name(short_a, "x");
  u16(short_a, k_type_a);
  u16(short_a, k_class_in);
  u32(short_a, 1);
  u16(short_a, 3);
  short_a.insert(short_a.end(), {1, 2, 3});
  EXPECT_FALSE(parse(short_a));
}

TEST(DnsMessage, NamesOverTheLimitsOrWithDotsInLabelsAreRefused) {
  Bytes long_label = header(1, 0);
  long_label.push_back(64);
  long_label.insert(long_label.end(), 64, 'a');
  long_label.insert(long_label.end(), {0, 0, 1, 0, 1});
  EXPECT_FALSE(parse(long_label));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  long_name += "com";
  Bytes too_long = header(1, 0);
  question(too_long, long_name);
  EXPECT_FALSE(parse(too_long));
  Bytes dotted = header(1, 0);
  dotted.insert(dotted.end(), {3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
  EXPECT_FALSE(parse(dotted));
}

TEST(DnsMessage, HighTtlReadsAsZeroAndOtherTypesAreKeptByName) {
  Bytes b = header(1, 2);
  question(b, "x.org");
  name(b, "x.org");
  u16(b, 16);  // TXT
  u16(b, k_class_in);
  u32(b, 5);
  u16(b, 3);
  b.insert(b.end(), {2, 'h', 'i'});
  a_record(b, "x.org", 0x80000000u, 0x05060708);
  auto m = parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->answers[0].type, 16);
  EXPECT_EQ(a_records(*m, "x.org"), (std::vector<Address>{{0x05060708, 0}}));
}
