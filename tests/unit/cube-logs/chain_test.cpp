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
