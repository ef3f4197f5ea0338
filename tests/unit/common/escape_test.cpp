#include "escape.hpp"

#include <gtest/gtest.h>

using cube::escape_controls;

TEST(Escape, ControlBytesBecomeHex) {
  EXPECT_EQ(escape_controls("plain text: ok"), "plain text: ok");
  EXPECT_EQ(escape_controls("a\x1b[31mb"), "a\\x1b[31mb");
  EXPECT_EQ(escape_controls("tab\there\nnl\r\x7f"), "tab\\x09here\\x0anl\\x0d\\x7f");
  EXPECT_EQ(escape_controls(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(Escape, Utf8IsKeptButC1AndInvalidBytesAreNot) {
  EXPECT_EQ(escape_controls("caf\xc3\xa9 \xe2\x80\xa6 \xe2\x80\x94 \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x80\xa6 \xe2\x80\x94 \xf0\x9f\x98\x80");
  EXPECT_EQ(escape_controls("\xc2\x9b"), "\\xc2\\x9b");  // C1 CSI as UTF-8
  EXPECT_EQ(escape_controls("\x9b"
                            "31m"),
            "\\x9b31m");                                          // C1 CSI as one byte
  EXPECT_EQ(escape_controls("\xc3"), "\\xc3");                    // cut short
  EXPECT_EQ(escape_controls("\xc0\xaf"), "\\xc0\\xaf");           // overlong
  EXPECT_EQ(escape_controls("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(escape_controls("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

TEST(Escape, FirstInvalidUtf8) {
  EXPECT_EQ(cube::first_invalid_utf8("ok caf\xc3\xa9 \xc2\x9b"), std::string_view::npos);
  EXPECT_EQ(cube::first_invalid_utf8("[sched.\xff\xff]"), 7u);
  EXPECT_EQ(cube::first_invalid_utf8("ab\xe2\x80"), 2u);
}
