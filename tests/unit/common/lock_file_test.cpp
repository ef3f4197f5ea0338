// fs::LockFile: one holder at a time across processes; a second says it waits, then gets it.
#include "lock_file.hpp"
#include "error.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <stdexcept>

using namespace cube;

namespace {

// Another process taking the lock at `path`: it writes 'w' to `events` when it has to wait and 'L'
// once it holds the lock. It closes its copy of `inherited` first, so that the parent's lock is held
// by the parent's descriptor alone.
struct Waiter {
  pid_t pid = -1;
  int events = -1;

  Waiter(const std::string& path, std::optional<fs::LockFile>& inherited) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
      ::close(fds[0]);
      try {
        inherited.reset();
        fs::LockFile l(path, [&] { (void)!::write(fds[1], "w", 1); });
        (void)!::write(fds[1], "L", 1);
      } catch (...) {
        ::_exit(1);  // never unwind into gtest in the child
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    events = fds[0];
  }
  ~Waiter() { ::close(events); }

  // The next event, '?' when none comes within 10 s (a lock that never comes fails, not hangs).
  char next() const {
    char c = 0;
    pollfd p{events, POLLIN, 0};
    return ::poll(&p, 1, 10'000) == 1 && ::read(events, &c, 1) == 1 ? c : '?';
  }
  bool quiet_for(int ms) const {
    pollfd p{events, POLLIN, 0};
    return ::poll(&p, 1, ms) == 0;
  }
  bool exits_cleanly() const {
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
};

TEST(LockFile, ASecondHolderSaysItWaitsAndGetsTheLockOnceTheFirstLetsGo) {
  test::TempDir t;
  std::string path = t / "artifact.lock";
  std::optional<fs::LockFile> first(std::in_place, path, [] { FAIL() << "the first holder waited"; });
  Waiter second(path, first);
  EXPECT_EQ(second.next(), 'w');  // it waits: the first holds the lock
  EXPECT_TRUE(second.quiet_for(200)) << "the second got the lock while the first held it";
  first.reset();
  EXPECT_EQ(second.next(), 'L');
  EXPECT_TRUE(second.exits_cleanly());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);  // the file stays: only a holder removes it
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A holder removes the file; another locks the path anew (a new file) while a waiter still waits on
// the old one: once the first lets go, the waiter must wait for the new holder, not hold the path too.
TEST(LockFile, AWaiterOnARemovedFileLocksThePathAnew) {
  test::TempDir t;
  std::string path = t / "artifact.lock";
  std::optional<fs::LockFile> first(std::in_place, path);
  Waiter waiter(path, first);
  EXPECT_EQ(waiter.next(), 'w');
  first->remove();
  std::optional<fs::LockFile> third = fs::LockFile::try_take(path);  // a new file: not held by anyone
  ASSERT_TRUE(third.has_value());
  first.reset();
  EXPECT_TRUE(waiter.quiet_for(200)) << "the waiter holds the path while the third does";
  EXPECT_FALSE(fs::LockFile::try_take(path).has_value());  // held by the third (another description)
  third.reset();
  EXPECT_EQ(waiter.next(), 'L');
  EXPECT_TRUE(waiter.exits_cleanly());
}

TEST(LockFile, HeldLooksWithoutMakingOrTaking) {
  test::TempDir t;
  std::string path = t / "a.lock";
  EXPECT_FALSE(fs::LockFile::held(path));
  EXPECT_FALSE(std::filesystem::exists(path));  // a dry run makes nothing
  {
    fs::LockFile l(path);
    EXPECT_TRUE(fs::LockFile::held(path));
  }
  EXPECT_FALSE(fs::LockFile::held(path));
  EXPECT_TRUE(fs::LockFile::try_take(path).has_value());  // looking took nothing
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
