// cube::versions::inspect_binary: the embedded stamp found wherever it falls in a file.
#include "cube-versions/binary_stamp.hpp"
#include "error.hpp"
#include "sha256.hpp"
#include "testing.hpp"
#include "version.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace cube;
using namespace cube::versions;

namespace {

constexpr size_t k_block = 4 * 1024 * 1024;  // inspect_binary's read size
// A marker for test files. Built at run time: a whole marker as a literal would sit in this test
// binary and be found by the test that inspects the binary itself.
std::string marker(std::string_view body) { return std::string(1, '@') + "(#)cube-stamp " + std::string(body); }

const std::string k_marker =
    marker("version=1.2.3 commit=0123456789abcdef0123456789abcdef01234567 build_time=2026-01-01T00:00:00Z\n");

std::string filler(size_t n, unsigned seed) {
  std::string out(n, '\0');
  std::mt19937 rng(seed);
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);  // never '@', never a terminator
  return out;
}

// Writes filler, then `marker` at byte `at`, then `tail` bytes of filler; returns the path.
std::string binary_with(const test::TempDir& tmp, size_t at, const std::string& marker, size_t tail = 1000) {
  std::string path = tmp / fmt::format("bin-{}", at);
  test::write_text(path, filler(at, 1) + marker + filler(tail, 2));
  return path;
}

void expect_stamp(const BinaryInfo& info, std::string_view version) {
  ASSERT_TRUE(info.stamp.has_value());
  EXPECT_EQ(info.stamp->version, version);
  EXPECT_EQ(info.stamp->commit, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(info.stamp->build_time, "2026-01-01T00:00:00Z");
}

}  // namespace

TEST(BinaryStamp, FindsTheMarkerWhereverItFalls) {
  test::TempDir tmp;
  size_t m = k_marker.size();
  for (size_t at :
       {size_t{0}, size_t{100}, k_block - 5, k_block - 40, k_block - m, k_block - m + 1, k_block, 2 * k_block - 60}) {
    SCOPED_TRACE(at);
    std::string path = binary_with(tmp, at, k_marker);
    BinaryInfo info = inspect_binary(path);
    expect_stamp(info, "1.2.3");
    EXPECT_EQ(info.sha256, sha256_file(path));
    ::unlink(path.c_str());
  }
}

TEST(BinaryStamp, FindsAMarkerAtTheVeryEnd) {
  test::TempDir tmp;
  std::string unterminated = k_marker.substr(0, k_marker.size() - 1);
  expect_stamp(inspect_binary(binary_with(tmp, 100, unterminated, 0)), "1.2.3");
  expect_stamp(inspect_binary(binary_with(tmp, k_block - 30, unterminated, 0)), "1.2.3");
}

TEST(BinaryStamp, FindsALongMarkerAcrossTheBoundary) {
  test::TempDir tmp;
  std::string version(420, 'v');
  std::string long_marker = marker(
      "version=" + version + " commit=0123456789abcdef0123456789abcdef01234567 build_time=2026-01-01T00:00:00Z\n");
  for (size_t before_end : {size_t{20}, size_t{300}, long_marker.size() - 1}) {
    SCOPED_TRACE(before_end);
    expect_stamp(inspect_binary(binary_with(tmp, k_block - before_end, long_marker)), version);
  }
}

TEST(BinaryStamp, SkipsDecoysBeforeTheMarker) {
  test::TempDir tmp;
  // A binary holds the prefix as a string literal too (binary_stamp.o's own search key), followed by
  // NUL: that and other non-stamps must not hide the real marker behind them.
  std::string decoys = std::string("@(#)cube-stamp \0", 16) + "xx@(#)cube-stamp garbage\n" + filler(50, 3);
  std::string path = tmp / "decoy";
  test::write_text(path, filler(1000, 1) + decoys + k_marker + filler(1000, 2));
  expect_stamp(inspect_binary(path), "1.2.3");
}

TEST(BinaryStamp, WithoutMarker) {
  test::TempDir tmp;
  std::string path = tmp / "plain";
  test::write_text(path, filler(k_block + 333, 9));
  BinaryInfo info = inspect_binary(path);
  EXPECT_FALSE(info.stamp.has_value());
  EXPECT_EQ(info.sha256, sha256_file(path));
  test::write_text(tmp / "empty", "");
  BinaryInfo empty = inspect_binary(tmp / "empty");
  EXPECT_FALSE(empty.stamp.has_value());
  EXPECT_EQ(empty.sha256, sha256_hex(""));
}

TEST(BinaryStamp, ThisTestBinaryFindsItsOwnStamp) {
  BinaryInfo info = inspect_binary("/proc/self/exe");
  ASSERT_TRUE(info.stamp.has_value());
  EXPECT_EQ(info.stamp->version, version::current().version);
  EXPECT_EQ(info.stamp->commit, version::current().commit);
  EXPECT_EQ(info.stamp->build_time, version::current().build_time);
  EXPECT_EQ(info.sha256, sha256_file("/proc/self/exe"));
}

TEST(BinaryStamp, AStrippedBinaryFindsItsStamp) {
  // Stripped, a tool has no debug-info copy of the marker: the one in .rodata must be found, even
  // though the search literal sits in .rodata before it.
  test::TempDir tmp;
  std::string stripped = tmp / "stripped";
  std::string self = std::filesystem::read_symlink("/proc/self/exe");  // in a shell, /proc/self is the shell
  if (std::system(fmt::format("strip -o '{}' '{}' 2>/dev/null", stripped, self).c_str()) != 0)
    GTEST_SKIP() << "strip (binutils) is not installed";
  BinaryInfo info = inspect_binary(stripped);
  ASSERT_TRUE(info.stamp.has_value());
  EXPECT_EQ(info.stamp->version, version::current().version);
  EXPECT_EQ(info.stamp->commit, version::current().commit);
}

TEST(BinaryStamp, MissingFileIsNotFound) {
  try {
    inspect_binary("/nonexistent/cube-x");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cube-x"), std::string::npos);
  }
}
