#include "cube-tap/closer.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <vector>

using namespace cube;
using namespace cube::tap;

namespace {
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
}  // namespace

TEST(TapCloser, FlushReturnsOnlyOnceEveryQueuedFdIsClosed) {
  Closer closer;
  std::vector<int> raw;
  for (int i = 0; i < 64; ++i) {
    Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    raw.push_back(fd.get());
    closer.close(std::move(fd));
  }
  closer.flush();
  for (int fd : raw) EXPECT_FALSE(is_open(fd)) << fd;
  closer.close(Fd());  // an empty fd is nothing to do
  closer.flush();
}

TEST(TapCloser, DestructionClosesWhatIsStillQueued) {
  int raw;
  {
    Closer closer;
    Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    raw = fd.get();
    closer.close(std::move(fd));
  }
  EXPECT_FALSE(is_open(raw));
}
