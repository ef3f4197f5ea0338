// cube::Error: exit codes and the "<what> (<why>; <hint>)" message.
#include "error.hpp"

#include <gtest/gtest.h>

#include <cerrno>

using namespace cube;

TEST(Error, ExitCodesAreTheDocumentedNumbers) {
  EXPECT_EQ(static_cast<int>(Exit::ok), 0);
  EXPECT_EQ(static_cast<int>(Exit::failed), 1);
  EXPECT_EQ(static_cast<int>(Exit::usage), 2);
  EXPECT_EQ(static_cast<int>(Exit::not_found), 3);
  EXPECT_EQ(static_cast<int>(Exit::conflict), 4);
  EXPECT_EQ(static_cast<int>(Exit::check), 5);
}

TEST(Error, MessageLeavesOutEmptyParts) {
  EXPECT_EQ(Error(Exit::failed, "what").message(), "what");
  EXPECT_EQ(Error(Exit::failed, "what", "why").message(), "what (why)");
  EXPECT_EQ(Error(Exit::failed, "what", "", "hint").message(), "what (hint)");
  EXPECT_EQ(Error(Exit::failed, "what", "why", "hint").message(), "what (why; hint)");
  Error e(Exit::not_found, "w", "y", "h");
  EXPECT_EQ(e.code(), Exit::not_found);
  EXPECT_STREQ(e.what(), "w");
  EXPECT_EQ(e.why(), "y");
  EXPECT_EQ(e.hint(), "h");
}

TEST(Error, IsARuntimeError) {
  try {
    throw Error(Exit::conflict, "busy");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "busy");
  }
}

TEST(Error, FailFormats) {
  try {
    fail(Exit::usage, "bad {} of {}", "value", 3);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_STREQ(e.what(), "bad value of 3");
    return;
  }
  ADD_FAILURE();
}

TEST(Error, SysErrorFromErrno) {
  Error e = sys_error(ENOENT, "cannot open /x");
  EXPECT_EQ(e.code(), Exit::failed);
  EXPECT_STREQ(e.what(), "cannot open /x");
  EXPECT_EQ(e.why(), "No such file or directory");
  EXPECT_EQ(e.hint(), "");
  EXPECT_EQ(e.message(), "cannot open /x (No such file or directory)");
  Error full = sys_error(ENOSPC, "cannot write /y", Exit::conflict);
  EXPECT_EQ(full.code(), Exit::conflict);
  EXPECT_EQ(full.message(), "cannot write /y (No space left on device; the disk is full)");
}

TEST(Error, ErrnoTextAndHints) {
  EXPECT_EQ(errno_text(EACCES), "Permission denied");
  EXPECT_FALSE(errno_text(12345).empty());
  for (int e : {EACCES, EPERM, ENOSPC, EROFS, EMFILE, ENFILE, ELOOP}) EXPECT_FALSE(errno_hint(e).empty()) << e;
  EXPECT_EQ(errno_hint(ENOENT), "");
  EXPECT_EQ(errno_hint(0), "");
}
