// cube-logs: the CRI record format, the line framer and the channel demultiplexer.
#include "cube-logs/cri.hpp"
#include "cube-logs/framer.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::logs;

namespace {

constexpr std::string_view k_stamp = "2026-11-29T19:48:53.123456789Z";

struct Rec {
  bool partial;
  std::string text;
};

std::vector<Rec> records(const std::string& stored) {
  std::vector<Rec> out;
  size_t at = 0;
  while (at < stored.size()) {
    size_t nl = stored.find('\n', at);
    cri::Record r;
    EXPECT_TRUE(cri::parse(std::string_view(stored).substr(at, nl - at), r));
    EXPECT_EQ(r.stream, "stdout");
    out.push_back({r.partial, std::string(r.text)});
    at = nl + 1;
  }
  return out;
}

std::string frame(int stream, const std::string& payload) {
  std::string f(1, static_cast<char>(stream));
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>((n >> shift) & 0xff));
  return f + payload;
}

}  // namespace

TEST(LogsCri, RecordRoundTrip) {
  std::string out;
  cri::append_record(out, k_stamp, cri::Stream::err, true, std::string("a b\r\0\xff", 6));
  EXPECT_EQ(out, std::string("2026-11-29T19:48:53.123456789Z stderr P a b\r\0\xff\n", 47));
  cri::Record r;
  ASSERT_TRUE(cri::parse(std::string_view(out).substr(0, out.size() - 1), r));
  EXPECT_EQ(r.stream, "stderr");
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.text, std::string_view("a b\r\0\xff", 6));
  EXPECT_EQ(r.time_ns, 1'795'981'733'123'456'789);
  EXPECT_TRUE(cri::is_partial(out));
}

TEST(LogsCri, EmptyTextAndForeignLines) {
  cri::Record r;
  ASSERT_TRUE(cri::parse("2026-11-29T19:48:53Z stdout F ", r));
  EXPECT_EQ(r.text, "");
  ASSERT_TRUE(cri::parse("2026-11-29T19:48:53Z stdout F", r));
  // A record that ends at its tag has empty text at the end of the line (where a printer finds the
  // newline), not a null view: printing one used to crash.
  std::string_view bare = "2026-11-29T19:48:53.5Z stdout F";
  cri::Fields f;
  ASSERT_TRUE(cri::split(bare, f));
  EXPECT_EQ(f.text.data(), bare.data() + bare.size());
  ASSERT_TRUE(cri::parse(bare, r));
  EXPECT_EQ(r.text.data(), bare.data() + bare.size());
  for (const char* plain : {"", "hello world", "2026-11-29 stdout F x", "2026-11-29T19:48:53Z stdout X x",
                            "2026-11-29T19:48:53Z stdout Fx", "2026-11-29T19:48:53Z  F x"})
    EXPECT_FALSE(cri::parse(plain, r)) << plain;
  EXPECT_FALSE(cri::is_partial("2026-11-29T19:48:53Z stdout F P"));
  EXPECT_FALSE(cri::is_partial("P 2026 stdout P"));
}

TEST(LogsFramer, SplitsAt16KiBExactly) {
  Framer f(cri::Stream::out);
  std::string out;
  f.feed(std::string(16384, 'a') + "\n" + std::string(16385, 'b') + "\n" + std::string(40000, 'c') + "\n", k_stamp,
         out);
  auto r = records(out);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_FALSE(r[0].partial);
  EXPECT_EQ(r[0].text.size(), 16384u);
  EXPECT_TRUE(r[1].partial);
  EXPECT_EQ(r[1].text.size(), 16384u);
  EXPECT_FALSE(r[2].partial);
  EXPECT_EQ(r[2].text, "b");
  EXPECT_TRUE(r[3].partial && r[4].partial && !r[5].partial);
  EXPECT_EQ(r[5].text.size(), 40000u - 2 * 16384u);
}

TEST(LogsFramer, ByteAtATimeEqualsOneChunk) {
  std::string input = "one\r\ntwo\n\n" + std::string(20000, 'x') + "\nend-no-newline";
  std::string whole, bytes;
  Framer a(cri::Stream::out), b(cri::Stream::out);
  a.feed(input, k_stamp, whole);
  a.finish(k_stamp, true, whole);
  for (char c : input) b.feed(std::string_view(&c, 1), k_stamp, bytes);
  b.finish(k_stamp, true, bytes);
  EXPECT_EQ(whole, bytes);
  auto r = records(whole);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].text, "one\r");
  EXPECT_EQ(r[2].text, "");
  EXPECT_EQ(r[5].text, "end-no-newline");
  EXPECT_FALSE(r[5].partial);
}

TEST(LogsFramer, FinishCutShortIsPartial) {
  Framer f(cri::Stream::out);
  std::string out;
  f.feed("half", k_stamp, out);
  EXPECT_TRUE(out.empty());
  f.finish(k_stamp, false, out);
  auto r = records(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].partial);
  out.clear();
  f.finish(k_stamp, true, out);  // nothing held any more
  EXPECT_TRUE(out.empty());
}

TEST(LogsDemux, FramesSplitAnywhere) {
  std::string wire = frame(1, "hello ") + frame(2, "err\n") + frame(1, "world\n") + frame(1, "");
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    Demux d;
    std::string out, err;
    for (std::string_view part : {std::string_view(wire).substr(0, cut), std::string_view(wire).substr(cut)}) {
      while (!part.empty()) {
        Demux::Piece p = d.next(part);
        (p.stream == cri::Stream::out ? out : err).append(p.data);
      }
    }
    EXPECT_EQ(out, "hello world\n");
    EXPECT_EQ(err, "err\n");
    EXPECT_TRUE(d.at_boundary());
    EXPECT_EQ(d.frames(), 4u);
  }
}

TEST(LogsDemux, UnknownStreamIsAnError) {
  Demux d;
  std::string wire = frame(3, "x");
  std::string_view v(wire);
  EXPECT_THROW(d.next(v), Error);
}

// The framer against a byte-at-a-time model of the record rules, on lines of every length around
// the 16 KiB cut and fed in chunks that split them anywhere.
TEST(LogsFramer, MatchesAByteAtATimeModel) {
  constexpr size_t k = cri::k_max_text;
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    std::string input;
    for (int line = 0; line < 12; ++line) {
      size_t len = std::vector<size_t>{0, 1, 80, k - 1, k, k + 1, 2 * k, 2 * k + 1, 3 * k - 1}[rng() % 9];
      for (size_t i = 0; i < len; ++i) input.push_back(static_cast<char>('a' + rng() % 26));
      input.push_back('\n');
    }
    input += std::string(rng() % (2 * k), 'z');  // an unfinished line at the end
    std::string expected, held;
    for (char c : input) {
      if (c == '\n') {
        cri::append_record(expected, k_stamp, cri::Stream::out, false, held);
        held.clear();
        continue;
      }
      if (held.size() == k) {
        cri::append_record(expected, k_stamp, cri::Stream::out, true, held);
        held.clear();
      }
      held.push_back(c);
    }
    Framer f(cri::Stream::out);
    std::string got;
    for (size_t at = 0; at < input.size();) {
      size_t n = std::min<size_t>(input.size() - at, 1 + rng() % (3 * k));
      f.feed(std::string_view(input).substr(at, n), k_stamp, got);
      at += n;
    }
    ASSERT_EQ(got, expected) << "round " << round;
    std::string rest;
    f.finish(k_stamp, true, rest);
    EXPECT_EQ(rest, held.empty() ? "" : std::string(k_stamp) + " stdout F " + held + "\n");
  }
}
