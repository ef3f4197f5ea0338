// fs::LockFile: one holder at a time across processes; a second says it waits, then gets it.
#include "lock_file.hpp"
#include "error.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

using namespace cube;

namespace {

TEST(LockFile, ASecondHolderSaysItWaitsAndGetsTheLockOnceTheFirstLetsGo) {
  test::TempDir t;
  std::string path = t / "artifact.lock";
  std::optional<fs::LockFile> first(std::in_place, path, [] { FAIL() << "the first holder waited"; });
  int to_parent[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_parent[0]);
    try {
      first.reset();  // its inherited copy: the lock is the parent's, held by its descriptor alone
      fs::LockFile second(path, [&] { (void)!::write(to_parent[1], "w", 1); });
      (void)!::write(to_parent[1], "L", 1);
    } catch (...) {
      ::_exit(1);  // never unwind into gtest in the child
    }
    ::_exit(0);
  }
  ::close(to_parent[1]);
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  EXPECT_EQ(c, 'w');  // it waits: the first holds the lock
  pollfd pending{to_parent[0], POLLIN, 0};
  EXPECT_EQ(::poll(&pending, 1, 200), 0) << "the second got the lock while the first held it";
  first.reset();
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  EXPECT_EQ(c, 'L');
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(to_parent[0]);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);  // the file stays: see lock_file.hpp
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(LockFile, ASymlinkIsNotFollowed) {
  test::TempDir t;
  test::write_text(t / "victim", "keep");
  ASSERT_EQ(::symlink((t / "victim").c_str(), (t / "a.lock").c_str()), 0);
  try {
    fs::LockFile l(t / "a.lock");
    FAIL() << "locked through a symlink";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(t / "a.lock"), std::string::npos) << e.message();
  }
}

}  // namespace
