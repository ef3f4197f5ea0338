// cube::logs chains: which of a stream's files are found, with rotations in progress.
#include "cube-logs/chain.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace cube;
using namespace cube::logs;

namespace {

std::vector<std::string> found(const test::TempDir& dir, const std::vector<std::string>& files) {
  for (const auto& f : files) test::write_text(dir / f, f + "\n");
  Fd fd = dir.open();
  std::vector<std::string> names;
  for (const auto& s : open_segments(fd.get(), dir.path(), "stdout"))
    names.push_back(s.path.substr(dir.path().size() + 1));
  return names;
}

}  // namespace

TEST(LogsChain, CurrentThenRotatedNewestFirst) {
  test::TempDir dir;
  EXPECT_EQ(found(dir, {"stdout", "stdout.1", "stdout.2"}),
            (std::vector<std::string>{"stdout", "stdout.1", "stdout.2"}));
}

// A rotation moves stdout.N to stdout.N+1 first and stdout to stdout.1 last, one rename at a time:
// a reader walking the names meanwhile finds one of them missing, and the older files after it.
TEST(LogsChain, OneMissingRotatedNameIsARotationInProgress) {
  test::TempDir dir;
  EXPECT_EQ(found(dir, {"stdout", "stdout.1", "stdout.3", "stdout.4", "stdout.7"}),
            (std::vector<std::string>{"stdout", "stdout.1", "stdout.3", "stdout.4"}));  // two missing: the end
}

TEST(LogsChain, NoCurrentFileIsNoChain) {
  test::TempDir dir;
  EXPECT_TRUE(found(dir, {"stdout.1", "stdout.2"}).empty());
  Fd fd = dir.open();
  EXPECT_THROW(open_chain(fd.get(), dir.path(), "stdout", ""), Error);
}

// open_chain lists the directory: it reads past gaps of any length and names each one.
TEST(LogsChain, GapsThatStayAreReadPastAndNamed) {
  test::TempDir dir;
  for (std::string f : {"stdout", "stdout.1", "stdout.3", "stdout.7"}) test::write_text(dir / f, f + "\n");
  Fd fd = dir.open();
  Chain chain = open_chain(fd.get(), dir.path(), "stdout", "");
  EXPECT_EQ(chain.size(), std::string("stdout.7\nstdout.3\nstdout.1\nstdout\n").size());
  ASSERT_EQ(chain.problems().size(), 4u);  // .2, .4, .5, .6
  EXPECT_NE(chain.problems()[0].find("/stdout.2 is missing"), std::string::npos) << chain.problems()[0];
}

// A file ending in part of a CRI record is cut before it; a plain last line is a line.
TEST(LogsChain, ATornRecordIsNotPartOfTheChain) {
  test::TempDir dir;
  std::string whole = "2026-11-29T19:48:53.000000000Z stdout F one\n";
  test::write_text(dir / "stdout.1", whole + "2026-11-29T19:48:54.0");
  test::write_text(dir / "stdout", "plain\nno newline");
  Fd fd = dir.open();
  Chain chain = open_chain(fd.get(), dir.path(), "stdout", "");
  EXPECT_EQ(chain.size(), whole.size() + std::string("plain\nno newline").size());
  ASSERT_EQ(chain.problems().size(), 1u);
  EXPECT_NE(chain.problems()[0].find("stdout.1 ends in a record cut short (21 bytes"), std::string::npos);
}
