// WriteBehind on real files: order across immediate and queued batches, rotation on the writer's
// thread, and a write error carried back to the caller.
#include "cube-logs/write_behind.hpp"
#include "cube-logs/log_file.hpp"
#include "error.hpp"
#include "testing.hpp"

#include <seccomp.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace cube::logs {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whole records, `size` bytes or a little more.
std::string batch(char tag, size_t size, int& serial) {
  std::string out;
  while (out.size() < size) out += fmt::format("{} {}\n", tag, serial++);
  return out;
}

// Everything a rotated log holds, oldest first.
std::string rotated(const test::TempDir& dir, const std::string& name, uint64_t rotations) {
  std::string all;
  for (uint64_t k = rotations; k >= 1; --k) all += slurp(dir / fmt::format("{}.{}", name, k));
  return all + slurp(dir / name);
}

TEST(LogsWriteBehind, KeepsOrderAcrossImmediateAndQueuedBatchesWhileRotating) {
  test::TempDir dir;
  Fd dfd = dir.open();
  Rotation rotation{256 << 10, 1000};
  LogFile out(dfd.get(), dir.path(), "stdout", rotation), err(dfd.get(), dir.path(), "stderr", rotation);
  std::string want_out, want_err;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size_log(4, 17);  // 16 B … 128 KiB
  int serial = 0;
  {
    WriteBehind writer(64 << 10, 4 << 10);
    for (int i = 0; i < 400; ++i) {
      bool to_err = rng() % 3 == 0;
      std::string records = batch(to_err ? 'e' : 'o', size_t{1} << size_log(rng), serial);
      (to_err ? want_err : want_out) += records;
      writer.append(to_err ? err : out, records);
      ASSERT_TRUE(records.empty());
    }
    writer.flush();
    EXPECT_EQ(rotated(dir, "stdout", out.rotations()), want_out);
    EXPECT_EQ(rotated(dir, "stderr", err.rotations()), want_err);
    std::string tail = batch('o', 1 << 20, serial);
    want_out += tail;
    writer.append(out, tail);
  }  // the destructor writes what is queued
  EXPECT_GT(out.rotations(), 10u);
  EXPECT_EQ(rotated(dir, "stdout", out.rotations()), want_out);
}

// A write that fails on the writer's thread (EFBIG past RLIMIT_FSIZE) is thrown by the caller's
// next flush() and append(), and nothing after it is written. In a child process, so that the
// limit stays there.
TEST(LogsWriteBehind, AWriteErrorReachesTheCaller) {
  test::TempDir dir;
  auto run = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1 << 20, 1 << 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Fd dfd = dir.open();
    LogFile out(dfd.get(), dir.path(), "stdout", {}), err(dfd.get(), dir.path(), "stderr", {});
    WriteBehind writer;
    int serial = 0;
    std::string records = batch('o', 2 << 20, serial);
    writer.append(out, records);
    int thrown = 0;
    try {
      writer.flush();
    } catch (const Error& e) {
      thrown += std::string(e.what()).find("cannot write") != std::string::npos;
    }
    records = batch('e', 16, serial);  // to the other file, which has room
    try {
      writer.append(err, records);
    } catch (const Error&) {
      ++thrown;
    }
    std::_Exit(thrown == 2 && slurp(dir / "stderr").empty() ? 0 : 1);
  };
  EXPECT_EXIT(run(), ::testing::ExitedWithCode(0), "");
}

// When no thread can be started (clone refused, as a pids limit refuses it), every batch is written
// on the caller's thread, in order. In a child process, which keeps the filter.
TEST(LogsWriteBehind, WithoutAThreadEveryBatchIsWrittenAtOnce) {
  test::TempDir dir;
  auto run = [&] {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    bool refused = ctx && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(clone3), 0) == 0 &&
                   seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(clone), 0) == 0 && seccomp_load(ctx) == 0;
    seccomp_release(ctx);
    if (!refused) std::_Exit(3);
    Fd dfd = dir.open();
    LogFile out(dfd.get(), dir.path(), "stdout", {});
    std::string want;
    int serial = 0;
    {
      WriteBehind writer(64 << 10, 4 << 10);
      for (size_t size : {100, 300000, 10, 200000, 5000}) {
        std::string records = batch('o', size, serial);
        want += records;
        writer.append(out, records);
      }
      writer.flush();
    }
    std::_Exit(slurp(dir / "stdout") == want ? 0 : 1);  // _Exit: no sanitizer thread at exit
  };
  EXPECT_EXIT(run(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace cube::logs
