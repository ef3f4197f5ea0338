// cube-logs: the 64-byte newline scanners against a byte-by-byte scan, on every length and offset
// around the chunk edges and on random buffers.
#include "cube-logs/newlines.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace cube::logs;

namespace {

std::vector<size_t> naive(const std::string& s, size_t begin) {
  std::vector<size_t> at;
  for (size_t i = begin; i < s.size(); ++i)
    if (s[i] == '\n') at.push_back(i);
  return at;
}

std::vector<size_t> forward(const std::string& s, size_t begin) {
  std::vector<size_t> at;
  NewlinesForward scan(s.data(), begin, s.size());
  for (size_t nl; (nl = scan.next()) < s.size();) at.push_back(nl);
  EXPECT_EQ(scan.next(), s.size()) << "stays at the end once there";
  return at;
}

std::vector<size_t> backward(const std::string& s) {
  std::vector<size_t> at;
  NewlinesBackward scan(s.data(), s.size());
  for (size_t nl; (nl = scan.prev()) != NewlinesBackward::none;) at.insert(at.begin(), nl);
  EXPECT_EQ(scan.prev(), NewlinesBackward::none);
  return at;
}

std::string random_text(std::mt19937& rng, size_t len, int newline_one_in) {
  std::string s(len, 'x');
  for (auto& c : s) {
    c = static_cast<char>(rng() % 256);
    if (c == '\n') c = 'n';
    if (rng() % newline_one_in == 0) c = '\n';
  }
  return s;
}

}  // namespace

TEST(LogsNewlines, EveryLengthAndStartAroundTheChunkEdges) {
  std::mt19937 rng(7);
  for (size_t len = 0; len <= 200; ++len) {
    std::string s = random_text(rng, len, 9);
    for (size_t begin = 0; begin <= len; ++begin) ASSERT_EQ(forward(s, begin), naive(s, begin)) << len << " " << begin;
    ASSERT_EQ(backward(s), naive(s, 0)) << len;
  }
}

TEST(LogsNewlines, AllNewlinesNoneAndHighBytes) {
  for (size_t len : {1, 63, 64, 65, 128, 1000}) {
    std::string all(len, '\n'), none(len, '\xff');
    EXPECT_EQ(forward(all, 0), naive(all, 0));
    EXPECT_EQ(backward(all), naive(all, 0));
    EXPECT_TRUE(forward(none, 0).empty());
    EXPECT_TRUE(backward(none).empty());
  }
}

TEST(LogsNewlines, RandomBuffers) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::string s = random_text(rng, rng() % 5000, 1 + static_cast<int>(rng() % 200));
    ASSERT_EQ(forward(s, 0), naive(s, 0)) << round;
    ASSERT_EQ(backward(s), naive(s, 0)) << round;
  }
}
