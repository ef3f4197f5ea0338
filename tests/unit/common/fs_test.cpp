// cube::fs against a real directory tree with hostile symbolic links.
#include "fs.hpp"
#include "error.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <set>

using namespace cube;

namespace {

using OpenFn = Fd (*)(int, std::string_view, int, unsigned);

// Both resolvers must keep the same promise: the openat2 one and the component walk.
class Beneath : public ::testing::TestWithParam<OpenFn> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir((m_tmp / "base").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((m_tmp / "base/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((m_tmp / "base/a/b").c_str(), 0755), 0);
    test::write_text(m_tmp / "base/a/b/c.txt", "inside");
    test::write_text(m_tmp / "outside.txt", "secret");
    link("a", "base/dirlink");                         // a directory link, inside
    link("b/c.txt", "base/a/filelink");                // a file link, inside
    link("b", "base/a/blink");                         // a middle component link
    link("../outside.txt", "base/escape");             // a link out
    link(m_tmp / "outside.txt", "base/abs_escape");    // an absolute link out
    link("../../created_outside", "base/a/dangling");  // a dangling link out, for O_CREAT
    m_base = Fd(::open((m_tmp / "base").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(m_base);
  }

  void link(const std::string& target, const std::string& at) {
    ASSERT_EQ(::symlink(target.c_str(), (m_tmp / at).c_str()), 0) << at;
  }

  Fd open(std::string_view rel, int flags = O_RDONLY, unsigned mode = 0) {
    return GetParam()(m_base.get(), rel, flags, mode);
  }

  std::string read_all(const Fd& fd) {
    char buf[256];
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  // The open of `rel` fails and reports errno in `allowed`.
  void expect_refused(std::string_view rel, std::set<int> allowed, int flags = O_RDONLY) {
    errno = 0;
    Fd fd = open(rel, flags, 0644);
    EXPECT_FALSE(fd) << rel << " was opened";
    EXPECT_TRUE(allowed.count(errno)) << rel << ": errno " << errno << " (" << errno_text(errno) << ")";
  }

  test::TempDir m_tmp;
  Fd m_base;
};

}  // namespace

TEST_P(Beneath, OpensNormalNestedFiles) {
  Fd f = open("a/b/c.txt");
  ASSERT_TRUE(f);
  EXPECT_EQ(read_all(f), "inside");
  EXPECT_TRUE(open("./a/./b/c.txt"));
  EXPECT_TRUE(open("a//b/c.txt"));
  EXPECT_TRUE(open("a/b", O_RDONLY | O_DIRECTORY));
  EXPECT_NE(::fcntl(f.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_P(Beneath, CreatesNewFiles) {
  test::Umask mask(022);
  Fd f = open("a/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0640);
  ASSERT_TRUE(f) << errno_text(errno);
  EXPECT_EQ(test::mode_of(m_tmp / "base/a/new.txt"), 0640);
  EXPECT_FALSE(open("a/missing.txt"));
  EXPECT_EQ(errno, ENOENT);
}

TEST_P(Beneath, AnonymousTempFileGetsItsMode) {
  // O_TMPFILE takes a mode like O_CREAT does; a file linked in later must not be mode 0000.
  test::Umask mask(022);
  Fd f = open("a", O_WRONLY | O_TMPFILE, 0640);
  if (!f && errno == EOPNOTSUPP) GTEST_SKIP() << "no O_TMPFILE on this file system";
  ASSERT_TRUE(f) << errno_text(errno);
  struct stat st {};
  ASSERT_EQ(::fstat(f.get(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_P(Beneath, RefusesDotDot) {
  expect_refused("../outside.txt", {EXDEV});
  expect_refused("a/../../outside.txt", {EXDEV});
  expect_refused("..", {EXDEV});
  expect_refused("a/b/../../../outside.txt", {EXDEV});
}

TEST_P(Beneath, RefusesAbsolutePaths) {
  expect_refused(m_tmp / "outside.txt", {EXDEV});
  expect_refused(m_tmp / "base/a/b/c.txt", {EXDEV});  // even one that points inside
  expect_refused("/", {EXDEV});
}

TEST_P(Beneath, RefusesSymlinksInAnyComponent) {
  expect_refused("dirlink/b/c.txt", {ELOOP, ENOTDIR});  // first component
  expect_refused("a/blink/c.txt", {ELOOP, ENOTDIR});    // middle component
  expect_refused("a/filelink", {ELOOP});                // final component, target inside
  expect_refused("escape", {ELOOP});
  expect_refused("abs_escape", {ELOOP});
  expect_refused("dirlink", {ELOOP, ENOTDIR}, O_RDONLY | O_DIRECTORY);
}

TEST_P(Beneath, CreateThroughASymlinkCreatesNothing) {
  expect_refused("a/dangling", {ELOOP}, O_WRONLY | O_CREAT);
  expect_refused("escape", {ELOOP}, O_WRONLY | O_CREAT | O_TRUNC);
  EXPECT_FALSE(fs::exists(m_tmp / "created_outside"));
  EXPECT_EQ(fs::read_file(m_tmp / "outside.txt", 100), "secret");
}

INSTANTIATE_TEST_SUITE_P(Fs, Beneath, ::testing::Values(&fs::open_beneath, &fs::open_beneath_walk),
                         [](const auto& info) { return info.index == 0 ? "openat2" : "walk"; });

TEST(Fs, WalkRefusesEmptyPath) {
  test::TempDir tmp;
  Fd base = tmp.open();
  EXPECT_FALSE(fs::open_beneath_walk(base.get(), "", O_RDONLY));
  EXPECT_FALSE(fs::open_beneath(base.get(), "", O_RDONLY));
}

TEST(Fs, ReadFileWithLimit) {
  test::TempDir tmp;
  std::string file = tmp / "f";
  test::write_text(file, "0123456789");
  EXPECT_EQ(fs::read_file(file, 10), "0123456789");
  try {
    fs::read_file(file, 9);
    ADD_FAILURE() << "over the limit accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos);
    EXPECT_NE(e.why().find("10 bytes"), std::string::npos) << e.message();
    EXPECT_NE(e.why().find("9"), std::string::npos) << e.message();
  }
  test::write_text(tmp / "empty", "");
  EXPECT_EQ(fs::read_file(tmp / "empty", 0), "");
}

TEST(Fs, ReadFileErrorsNameTheFile) {
  test::TempDir tmp;
  try {
    fs::read_file(tmp / "missing", 10);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::not_found);
    EXPECT_NE(std::string(e.what()).find(tmp / "missing"), std::string::npos);
  }
  try {
    fs::read_file(tmp.path(), 10);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.path()), std::string::npos);
  }
  ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0600), 0);
  EXPECT_THROW(fs::read_file(tmp / "fifo", 10), Error);  // refused without blocking on the fifo
}

TEST(Fs, ReadFileReadsKernelFilesThatReportSizeZero) {
  // /proc files have st_size 0 yet content: a whole-file read must not return "".
  std::string status = fs::read_file("/proc/self/status", 1 << 20);
  EXPECT_NE(status.find("Pid:"), std::string::npos) << status.size() << " bytes";
  EXPECT_THROW(fs::read_file("/proc/self/status", 16), Error);  // and the limit still holds
}

TEST(Fs, AtomicWriteSetsModeAndContentAndLeavesNoTemp) {
  test::TempDir tmp;
  test::Umask mask(077);  // the mode asked for wins over the umask
  std::string file = tmp / "out.json";
  fs::atomic_write(file, "first", 0644);
  EXPECT_EQ(fs::read_file(file, 100), "first");
  EXPECT_EQ(test::mode_of(file), 0644);
  fs::atomic_write(file, std::string(100'000, 'x'), 0600);  // replaces content and mode
  EXPECT_EQ(fs::read_file(file, 200'000), std::string(100'000, 'x'));
  EXPECT_EQ(test::mode_of(file), 0600);
  fs::atomic_write(file, "", 0640);
  EXPECT_EQ(fs::read_file(file, 100), "");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    EXPECT_EQ(e.path().filename(), "out.json");
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Fs, AtomicWriteReplacesASymlinkInsteadOfWritingThroughIt) {
  test::TempDir tmp;
  test::write_text(tmp / "target", "keep");
  ASSERT_EQ(::symlink("target", (tmp / "link").c_str()), 0);
  fs::atomic_write(tmp / "link", "new", 0644);
  EXPECT_EQ(fs::read_file(tmp / "target", 100), "keep");
  EXPECT_FALSE(std::filesystem::is_symlink(std::filesystem::symlink_status(tmp / "link")));
  EXPECT_EQ(fs::read_file(tmp / "link", 100), "new");
}

TEST(Fs, AtomicWriteFailureNamesThePathAndLeavesNothing) {
  test::TempDir tmp;
  EXPECT_THROW(fs::atomic_write(tmp / "no/such/dir/file", "x", 0644), Error);
  ASSERT_EQ(::mkdir((tmp / "isdir").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tmp / "isdir/child").c_str(), 0755), 0);
  try {
    fs::atomic_write(tmp / "isdir", "x", 0644);  // rename onto a non-empty directory fails
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp / "isdir"), std::string::npos) << e.message();
  }
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 1);  // isdir only: the temp file was removed
}

TEST(Fs, MakeDirsModes) {
  test::TempDir tmp;
  test::Umask mask(022);
  fs::make_dirs(tmp / "p/q/r", 0700);
  EXPECT_EQ(test::mode_of(tmp / "p"), 0700);
  EXPECT_EQ(test::mode_of(tmp / "p/q"), 0700);
  EXPECT_EQ(test::mode_of(tmp / "p/q/r"), 0700);
  fs::make_dirs(tmp / "p/q/r/s", 0755);  // existing ones keep their mode
  EXPECT_EQ(test::mode_of(tmp / "p/q"), 0700);
  EXPECT_EQ(test::mode_of(tmp / "p/q/r/s"), 0755);
  fs::make_dirs(tmp / "p/q/r/s", 0700);  // idempotent
  EXPECT_EQ(test::mode_of(tmp / "p/q/r/s"), 0755);
  fs::make_dirs(tmp / "t/", 0750);  // a trailing slash
  EXPECT_EQ(test::mode_of(tmp / "t"), 0750);
  test::write_text(tmp / "file", "");
  EXPECT_THROW(fs::make_dirs(tmp / "file/sub", 0700), Error);
  EXPECT_THROW(fs::make_dirs(tmp / "file", 0700), Error);
}

TEST(Fs, SpaceIsSane) {
  test::TempDir tmp;
  fs::SpaceInfo s = fs::space(tmp.path());
  struct statvfs v {};
  ASSERT_EQ(::statvfs(tmp.path().c_str(), &v), 0);
  EXPECT_GT(s.total_bytes, 0u);
  EXPECT_LE(s.available_bytes, s.total_bytes);
  EXPECT_EQ(s.total_bytes, static_cast<uint64_t>(v.f_blocks) * v.f_frsize);
  EXPECT_NE(s.fs_type, 0);
  EXPECT_FALSE(s.network);
  EXPECT_THROW(fs::space(tmp / "missing"), Error);
}

TEST(Fs, DirnameAndBasename) {
  EXPECT_EQ(fs::dirname("/a/b/c"), "/a/b");
  EXPECT_EQ(fs::dirname("/a/b/c/"), "/a/b");
  EXPECT_EQ(fs::dirname("/a"), "/");
  EXPECT_EQ(fs::dirname("/"), "/");
  EXPECT_EQ(fs::dirname("file"), ".");
  EXPECT_EQ(fs::dirname("a/b"), "a");
  EXPECT_EQ(fs::basename("/a/b/c"), "c");
  EXPECT_EQ(fs::basename("/a/b/c/"), "c");
  EXPECT_EQ(fs::basename("file"), "file");
  EXPECT_EQ(fs::basename("/"), "/");
}

TEST(Fs, ExistsSeesADanglingSymlink) {
  test::TempDir tmp;
  test::write_text(tmp / "f", "");
  ASSERT_EQ(::symlink("missing", (tmp / "dangling").c_str()), 0);
  EXPECT_TRUE(fs::exists(tmp / "f"));
  EXPECT_TRUE(fs::exists(tmp / "dangling"));  // the link itself exists
  EXPECT_FALSE(fs::exists(tmp / "nothing"));
}

TEST(Fs, ReadFdReadsAStreamToItsEndWithALimit) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string data(100'000, 'd');  // more than one read, more than a pipe holds
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(p[1], data.data() + done, data.size() - done);
      if (n <= 0) ::_exit(1);
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(p[1]);
  std::string got = fs::read_fd(p[0], 200'000, "standard input");
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(got, data);

  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "0123456789", 10), 10);
  ::close(p[1]);
  try {
    fs::read_fd(p[0], 9, "the report");
    ADD_FAILURE() << "over the limit accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find("the report"), std::string::npos) << e.message();
  }
  ::close(p[0]);
}
