// cube::log: line formats on stderr, level filtering and redaction.
#include "log.hpp"
#include "testing.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace cube;

namespace {

// Everything the logger writes to stderr while `f` runs, with the given set-up.
template <typename F>
std::string logged(log::Level level, log::Format format, F&& f) {
  log::setup("cube-x", level, format);
  std::string out;
  {
    test::Redirect err(STDERR_FILENO);
    f();
    out = err.text();
  }
  log::setup("cube", log::Level::warn, log::Format::text);
  return out;
}

}  // namespace

TEST(Log, TextLines) {
  std::string out = logged(log::Level::debug, log::Format::text, [] {
    log::error("e {}", 1);
    log::warn("w");
    log::info("i");
    log::debug("d");
  });
  EXPECT_EQ(out, "cube-x: error: e 1\ncube-x: warning: w\ncube-x: info: i\ncube-x: debug: d\n");
  EXPECT_EQ(log::tool_name(), "cube");
}

TEST(Log, LevelsFilter) {
  auto all = [] {
    log::error("e");
    log::warn("w");
    log::info("i");
    log::debug("d");
  };
  EXPECT_EQ(logged(log::Level::error, log::Format::text, all), "cube-x: error: e\n");
  EXPECT_EQ(logged(log::Level::warn, log::Format::text, all), "cube-x: error: e\ncube-x: warning: w\n");
  EXPECT_EQ(test::count(logged(log::Level::info, log::Format::text, all), "\n"), 3u);
}

TEST(Log, JsonLines) {
  std::string out = logged(log::Level::info, log::Format::json, [] {
    log::warn("disk \"full\"\n{}", "soon");
    log::info("second");
  });
  ASSERT_EQ(test::count(out, "\n"), 2u) << out;
  auto first = nlohmann::json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(first["level"], "warning");
  EXPECT_EQ(first["tool"], "cube-x");
  EXPECT_EQ(first["msg"], "disk \"full\"\nsoon");
  int64_t ns = 0;
  EXPECT_TRUE(time::parse_rfc3339(first["ts"].get<std::string>(), ns)) << first["ts"];
  EXPECT_EQ(nlohmann::json::parse(out.substr(out.find('\n') + 1))["level"], "info");
}

TEST(Log, Redact) {
  EXPECT_EQ(log::redact("hunter2"), "***REDACTED***");
  EXPECT_EQ(log::redact(""), "");
  std::string out = logged(log::Level::warn, log::Format::text, [] { log::warn("token {}", log::redact("s3cret")); });
  EXPECT_EQ(out, "cube-x: warning: token ***REDACTED***\n");
}
