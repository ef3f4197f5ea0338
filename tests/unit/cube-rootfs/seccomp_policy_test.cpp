// cube::rootfs lock-down of the build child: a child that installed the policy is killed by SIGSYS
// when it opens a socket or execs, and cannot create files outside its writable directory
// (Landlock, where the kernel has it).
#include "cube-rootfs/seccomp_policy.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <functional>
#include <thread>

namespace {

int in_locked_child(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    cube::rootfs::install_build_policy({"/tmp"}, {});
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

TEST(RootfsSeccomp, SocketsAndExecAreFatal) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "sanitizer builds load no seccomp filter (common/seccomp.hpp)";
#endif
  EXPECT_EQ(in_locked_child([] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; }), -SIGSYS);
  EXPECT_EQ(in_locked_child([] {
              execl("/bin/true", "true", nullptr);
              return 1;
            }),
            -SIGSYS);
  EXPECT_EQ(in_locked_child([] { return 7; }), 7);  // ordinary work goes on
}

TEST(RootfsSeccomp, ThreadsMayStartButProcessesMayNot) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "sanitizer builds load no seccomp filter (common/seccomp.hpp)";
#endif
  EXPECT_EQ(in_locked_child([] {
              int answer = 0;
              std::thread t([&] { answer = 42; });
              t.join();
              return answer;
            }),
            42);
  EXPECT_EQ(in_locked_child([] { return fork() >= 0 ? 0 : 1; }), -SIGSYS);
}

TEST(RootfsSeccomp, PolicyTextListsTheAllowlist) {
  std::string pfc = cube::rootfs::policy_text();
  EXPECT_NE(pfc.find("pwrite64"), std::string::npos);
  EXPECT_EQ(pfc.find("execve"), std::string::npos);
  EXPECT_EQ(pfc.find("socket"), std::string::npos);
}

TEST(RootfsLandlock, NoFilesOutsideTheWritableDirectory) {
  int rc = in_locked_child([] {
    int fd = open("/var/tmp/cube-landlock-probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      unlink("/var/tmp/cube-landlock-probe");
      return 2;  // created: Landlock is not available here
    }
    return errno == EACCES ? 0 : 3;
  });
  if (rc == 2) GTEST_SKIP() << "the kernel has no Landlock";
  EXPECT_EQ(rc, 0);
}
