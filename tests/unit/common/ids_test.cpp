// cube::ids: path-safe IDs and template references.
#include "ids.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace cube;

namespace {

// 24 lowercase hex digits. (No std::regex: g++ 12 warns inside it under SAN=1.)
bool is_hex24(std::string_view s) {
  if (s.size() != 24) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

TEST(Ids, PathSafeAcceptsLettersDigitsUnderscoreDash) {
  EXPECT_TRUE(ids::is_path_safe("a"));
  EXPECT_TRUE(ids::is_path_safe("node-01_A"));
  EXPECT_TRUE(ids::is_path_safe("-"));
  EXPECT_TRUE(ids::is_path_safe("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"));
  EXPECT_TRUE(ids::is_path_safe(std::string(128, 'x')));
}

TEST(Ids, PathSafeRefusesEverythingElse) {
  EXPECT_FALSE(ids::is_path_safe(""));
  EXPECT_FALSE(ids::is_path_safe(std::string(129, 'x')));
  for (std::string_view bad : {".", "..", "a.b", "a/b", "/", "a\\b", "a b", " a", "a\t", "a\n", "é", "a:b", "a*",
                               "$HOME", "a;b", "\x7f", "\xff"})
    EXPECT_FALSE(ids::is_path_safe(bad)) << bad;
  EXPECT_FALSE(ids::is_path_safe(std::string("a\0b", 3)));
  EXPECT_FALSE(ids::is_path_safe(std::string(1, '\0')));
  // Every byte outside [A-Za-z0-9_-] is refused, whatever the locale thinks of it.
  for (int c = 0; c < 256; ++c) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    EXPECT_EQ(ids::is_path_safe(std::string(1, static_cast<char>(c))), allowed) << c;
  }
}

TEST(Ids, CheckNamesKindTextAndLimit) {
  EXPECT_NO_THROW(ids::check("sb-1", "sandbox ID"));
  try {
    ids::check("../etc", "sandbox ID");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_EQ(std::string(e.what()), "invalid sandbox ID '../etc'");
    EXPECT_NE(e.why().find("letters, digits"), std::string::npos);
  }
  try {
    ids::check(std::string(129, 'n'), "node ID");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node ID"), std::string::npos);
    EXPECT_EQ(e.why(), "129 bytes, the limit is 128");
  }
  try {
    ids::check("", "node ID");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.why(), "it is empty");
  }
  try {
    ids::check(std::string("a\0\x1b", 3), "node ID");  // shown escaped, never raw
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "invalid node ID 'a\\x00\\x1b'");
  }
}

TEST(Ids, RandomHex24IsFreshLowercaseHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string h = ids::random_hex24();
    EXPECT_TRUE(is_hex24(h)) << h;
    EXPECT_EQ(ids::check_template_ref("snap-" + h), "snap-" + h);
    seen.insert(h);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Ids, TemplateRefTrimsWhiteSpace) {
  EXPECT_EQ(ids::check_template_ref("  tpl-abc\n"), "tpl-abc");
  EXPECT_EQ(ids::check_template_ref("\ttpl-x "), "tpl-x");
  EXPECT_EQ(ids::check_template_ref("snap-0"), "snap-0");
}

TEST(Ids, TemplateRefRefusals) {
  for (std::string_view bad : {"tpl-", "snap-", "tpl-   ", "  tpl-  ", "TPL-x", "Tpl-x", "SNAP-x", "tpl", "x-tpl-1", "",
                               "   ", "tpl-a b", "tpl-a/b", "tpl-../x", "tpl-é", "snapshot-1"}) {
    try {
      ids::check_template_ref(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("template ID"), std::string::npos) << e.message();
    }
  }
  EXPECT_THROW(ids::check_template_ref("tpl-" + std::string(125, 'a')), Error);  // 129 bytes
  EXPECT_NO_THROW(ids::check_template_ref("tpl-" + std::string(124, 'a')));      // 128 bytes
}
