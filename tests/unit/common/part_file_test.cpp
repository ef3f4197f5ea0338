// fs::PartFile: one writer per target, a killed writer's part replaced, nothing left on failure.
#include "part_file.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace cube;

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(PartFile, CommitRenamesThePartOntoTheTarget) {
  test::TempDir t;
  std::string target = t / "out.img";
  test::write_text(target, "old");
  {
    fs::PartFile part(target);
    EXPECT_EQ(part.path(), target + ".part");
    ASSERT_EQ(::write(part.fd(), "new", 3), 3);
    EXPECT_EQ(fs::read_file(target, 16), "old");  // readers see the old file until the end
    part.commit();
  }
  EXPECT_EQ(fs::read_file(target, 16), "new");
  EXPECT_FALSE(exists(target + ".part"));
}

TEST(PartFile, WithoutCommitThePartGoesAndTheTargetStays) {
  test::TempDir t;
  std::string target = t / "out.img";
  test::write_text(target, "old");
  {
    fs::PartFile part(target);
    ASSERT_EQ(::write(part.fd(), "half", 4), 4);
  }
  EXPECT_FALSE(exists(target + ".part"));
  EXPECT_EQ(fs::read_file(target, 16), "old");
}

TEST(PartFile, ASecondWriterOfTheSameTargetIsRefusedAndTheFirstKeepsItsPart) {
  test::TempDir t;
  std::string target = t / "out.img";
  fs::PartFile first(target);
  ASSERT_EQ(::write(first.fd(), "mine", 4), 4);
  Error e = test::error_of([&] { fs::PartFile second(target); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_TRUE(test::contains(e.what(), target)) << e.what();
  EXPECT_EQ(fs::read_file(target + ".part", 16), "mine");
  first.commit();
  EXPECT_EQ(fs::read_file(target, 16), "mine");
}

TEST(PartFile, AnAbandonedPartIsReplacedNeverFollowed) {
  test::TempDir t;
  std::string target = t / "out.img";
  test::write_text(t / "victim", "keep");
  test::write_text(target + ".part", "left by a killed writer");
  {
    fs::PartFile part(target);
    struct stat st {};
    ASSERT_EQ(::fstat(part.fd(), &st), 0);
    EXPECT_EQ(st.st_size, 0);
  }
  ASSERT_EQ(::symlink((t / "victim").c_str(), (target + ".part").c_str()), 0);
  {
    fs::PartFile part(target);
    ASSERT_EQ(::write(part.fd(), "x", 1), 1);
    part.commit();
  }
  EXPECT_EQ(fs::read_file(t / "victim", 16), "keep");
  EXPECT_EQ(fs::read_file(target, 16), "x");
}

TEST(PartFile, APartHeldByAnotherWriterIsLeftAlone) {
  test::TempDir t;
  std::string target = t / "out.img";
  test::write_text(target + ".part", "theirs");
  Fd held(::open((target + ".part").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(held);
  ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);
  EXPECT_EQ(test::error_of([&] { fs::PartFile part(target); }).code(), Exit::conflict);
  EXPECT_EQ(fs::read_file(target + ".part", 16), "theirs");
}

TEST(PartFile, ACommitThatMustNotReplaceKeepsATargetThatAppeared) {
  test::TempDir t;
  std::string target = t / "out.img";
  {
    fs::PartFile part(target);
    ASSERT_EQ(::write(part.fd(), "late", 4), 4);
    test::write_text(target, "first");  // another writer finished meanwhile
    Error e = test::error_of([&] { part.commit(false); });
    EXPECT_EQ(e.code(), Exit::conflict);
    EXPECT_TRUE(test::contains(e.what(), "already exists")) << e.what();
  }
  EXPECT_EQ(fs::read_file(target, 16), "first");
  EXPECT_FALSE(exists(target + ".part"));
}

}  // namespace
