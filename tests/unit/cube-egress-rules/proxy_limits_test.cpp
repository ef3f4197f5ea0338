#include "cube-egress-rules/proxy_limits.hpp"
#include "cube-egress-rules/proxy_audit_file.hpp"
#include "fs.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::egress;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(ConnLimits, CapsEachSourceAloneAndFreesSlotsWhenTheyEnd) {
  ConnLimits limits(2);
  std::vector<ConnLimits::Slot> held;
  held.push_back(*limits.admit(1));
  held.push_back(*limits.admit(1));
  EXPECT_FALSE(limits.admit(1));
  // Another source is not affected by the first one's cap.
  auto other = limits.admit(2);
  ASSERT_TRUE(other);
  EXPECT_EQ(limits.open(), 3u);
  EXPECT_EQ(limits.open_of(1), 2u);
  held.pop_back();
  EXPECT_EQ(limits.open_of(1), 1u);
  EXPECT_TRUE(limits.admit(1));  // a temporary: released at the end of the statement
  EXPECT_EQ(limits.open(), 2u);
}

TEST(ConnLimits, ReportsARefusedSourceAtMostOnceASecond) {
  ConnLimits limits(1);
  auto slot = limits.admit(7);
  EXPECT_TRUE(limits.should_report(7, 10'000));
  EXPECT_FALSE(limits.should_report(7, 10'500));
  EXPECT_TRUE(limits.should_report(7, 11'000));
}

TEST(AuditFile, RotatesPastItsSizeWithWholeLines) {
  test::TempDir dir;
  std::string path = dir / "audit.jsonl";
  AuditFile f(path, 100);
  for (int i = 0; i < 5; ++i) f.append(std::string(39, 'a' + i) + "\n");  // 40 bytes a line
  // Past 100 bytes after the third line: those three in .1, the next two in a new file.
  EXPECT_EQ(read_file(path + ".1"),
            std::string(39, 'a') + "\n" + std::string(39, 'b') + "\n" + std::string(39, 'c') + "\n");
  EXPECT_EQ(read_file(path), std::string(39, 'd') + "\n" + std::string(39, 'e') + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(AuditFile, NarrowsAWiderFileAndRefusesASymlink) {
  test::TempDir dir;
  std::string path = dir / "audit.jsonl";
  { std::ofstream(path) << "old\n"; }
  ::chmod(path.c_str(), 0666);
  AuditFile f(path, 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  std::string link = dir / "link.jsonl";
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_THROW(AuditFile(link, 0), Error);
}
