// cube-rootfs ImageWrites: runs land where they were queued, in order, across buffers and across
// the flushes it asks for on the way (every 32 MiB); a write that fails is reported on the caller's
// thread naming the file, and nothing after it is written.
#include "cube-rootfs/image_writes.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace cube;
using namespace cube::rootfs;

namespace {

constexpr size_t k_block = 4096;

// Byte i of file `f`'s block `b`: what the test writes and then expects to read.
char pattern(size_t f, size_t b, size_t i) { return static_cast<char>((f * 131 + b * 7 + i) % 251 + 1); }

std::string read_all(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST(ImageWrites, RunsLandWhereQueuedAcrossBuffersAndFlushes) {
  test::TempDir dir;
  std::string path = dir / "image";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  // 80 files of 1 MiB, each in two runs placed back to front: 80 MiB, so the writer asks for two
  // flushes while it goes on writing.
  constexpr size_t k_files = 80, k_blocks = 256;
  ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(k_files * k_blocks * k_block)), 0);
  {
    ImageWrites writes(fd.get());
    for (size_t f = 0; f < k_files; ++f) {
      std::span<char> room = writes.space();
      ASSERT_GE(room.size(), k_blocks * k_block);
      for (size_t b = 0; b < k_blocks; ++b)
        for (size_t i = 0; i < k_block; ++i) room[b * k_block + i] = pattern(f, b, i);
      uint64_t base = (k_files - 1 - f) * k_blocks * k_block;  // the last file first
      size_t half = k_blocks / 2 * k_block;
      std::vector<ImageWrites::Run> runs{{room.data() + half, half, base + half}, {room.data(), half, base}};
      writes.queue(k_blocks * k_block, runs, "file " + std::to_string(f));
    }
    writes.finish();
  }
  std::string image = read_all(path);
  ASSERT_EQ(image.size(), k_files * k_blocks * k_block);
  for (size_t f = 0; f < k_files; ++f) {
    size_t base = (k_files - 1 - f) * k_blocks * k_block;
    for (size_t b = 0; b < k_blocks; ++b)
      for (size_t i = 0; i < k_block; i += 509)
        ASSERT_EQ(image[base + b * k_block + i], pattern(f, b, i)) << "file " << f << " block " << b;
  }
}

TEST(ImageWrites, AFailedWriteIsReportedNamingTheFile) {
  test::TempDir dir;
  std::string path = dir / "image";
  { Fd make(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)); }
  Fd read_only(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // every pwrite fails: EBADF
  ImageWrites writes(read_only.get());
  std::span<char> room = writes.space();
  std::memset(room.data(), 'x', k_block);
  writes.queue(k_block, {{room.data(), k_block, 0}}, "etc/hostname");
  try {
    writes.finish();
    FAIL() << "finish() did not report the failed write";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("etc/hostname"), std::string::npos) << e.what();
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}
