// cube::config: precedence with its recorded source, warnings on stderr, errors, units, lists.
#include "config.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "log.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

using namespace cube;
using config::Config;
using config::Settings;
using config::Source;
using test::contains;
using test::error_of;

namespace {

constexpr const char* k_file = "/etc/cube/test.toml";

Config parse(std::string_view text) { return Config::parse(text, k_file); }

// Runs finish() and returns what it wrote to stderr.
std::string warnings_of(Settings& s) {
  log::setup("cube-test", log::Level::warn, log::Format::text);
  test::Redirect err(STDERR_FILENO);
  s.finish();
  return err.text();
}

const config::Entry* entry(const Settings& s, std::string_view key) {
  for (const auto& e : s.entries())
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace

TEST(Config, FlagBeatsConfigBeatsDefault) {
  Config cfg = parse("[versions]\nfrom_both = 10\nfrom_file = 20\n");
  Settings s(cfg, "versions");
  EXPECT_EQ(s.integer("from_both", 1, 30), 30);
  EXPECT_EQ(s.integer("from_file", 1, std::nullopt), 20);
  EXPECT_EQ(s.integer("from_default", 7), 7);
  EXPECT_EQ(s.text("name", "dflt", std::string("flagged")), "flagged");
  ASSERT_EQ(s.entries().size(), 4u);
  EXPECT_EQ(entry(s, "from_both")->source, Source::flag);
  EXPECT_EQ(entry(s, "from_both")->value, "30");
  EXPECT_EQ(entry(s, "from_file")->source, Source::config);
  EXPECT_EQ(entry(s, "from_file")->value, "20");
  EXPECT_EQ(entry(s, "from_default")->source, Source::default_value);
  EXPECT_EQ(entry(s, "from_default")->value, "7");
  EXPECT_EQ(entry(s, "name")->source, Source::flag);
  EXPECT_EQ(config::source_name(Source::flag), "flag");
  EXPECT_EQ(config::source_name(Source::config), "config");
  EXPECT_EQ(config::source_name(Source::default_value), "default");
  EXPECT_EQ(s.table(), "versions");
}

TEST(Config, EveryScalarKind) {
  Config cfg = parse("[sched]\nname = \"n1\"\ncount = 3\nratio = 1.5\nwhole = 2\non = true\n");
  Settings s(cfg, "sched");
  EXPECT_EQ(s.text("name", ""), "n1");
  EXPECT_EQ(s.integer("count", 0), 3);
  EXPECT_DOUBLE_EQ(s.number("ratio", 0), 1.5);
  EXPECT_DOUBLE_EQ(s.number("whole", 0), 2.0);  // an integer is a number too
  EXPECT_TRUE(s.boolean("on", false));
  EXPECT_FALSE(s.boolean("off", false));
  EXPECT_TRUE(s.boolean("off2", false, true));
  EXPECT_EQ(entry(s, "on")->value, "true");
  EXPECT_EQ(entry(s, "ratio")->value, "1.5");
  EXPECT_EQ(warnings_of(s), "");
}

TEST(Config, UnknownKeyInOwnTableWarnsOnceByName) {
  Config cfg = parse("[versions]\ninterval = \"40s\"\nintervall = \"40s\"\n");
  Settings s(cfg, "versions");
  s.duration_ms("interval", "30s");
  std::string err = warnings_of(s);
  EXPECT_EQ(test::count(err, "warning"), 1u) << err;
  EXPECT_EQ(test::count(err, "'versions.intervall'"), 1u) << err;
  EXPECT_TRUE(contains(err, k_file)) << err;
  EXPECT_FALSE(contains(err, "'versions.interval'")) << err;
}

TEST(Config, ValidKeysNeverWarn) {
  Config cfg = parse(
      "[versions]\na = 1\nb = \"x\"\nc = [\"p\", \"q\"]\nd = \"1h\"\ne = \"4M\"\n"
      "[versions.sub]\nx = 1\ny.z = 2\n"
      "[sched]\nwhatever = 1\n");  // another tool's table is that tool's business
  Settings s(cfg, "versions");
  s.integer("a", 0);
  s.text("b", "");
  s.list("c");
  s.duration_ms("d", "1s");
  s.size("e", "1M");
  s.subtable("sub");
  EXPECT_EQ(warnings_of(s), "");
}

// [sandbox] belongs to scripts/cube-sandbox, which no tool is: every tool must still know the table.
TEST(Config, SandboxTableNeverWarns) {
  Config cfg = parse("[versions]\na = 1\n[sandbox]\nvmm = \"qemu-system-x86_64 -kernel {kernel}\"\nrun_dir = \"/x\"\n");
  Settings s(cfg, "versions");
  s.integer("a", 0);
  EXPECT_EQ(warnings_of(s), "");
}

TEST(Config, UnknownTopLevelTableWarnsOnce) {
  Config cfg = parse("stray = 1\n[versions]\na = 1\n[nosuchtool]\nx = 1\ny = 2\n[nosuchtool.deeper]\nz = 3\n");
  Settings s(cfg, "versions");
  s.integer("a", 0);
  std::string err = warnings_of(s);
  EXPECT_EQ(test::count(err, "'nosuchtool'"), 1u) << err;
  EXPECT_EQ(test::count(err, "'stray'"), 1u) << err;
  EXPECT_EQ(test::count(err, "warning"), 2u) << err;
}

TEST(Config, WrongTypeIsUsageErrorNamingFileAndKey) {
  Config cfg = parse("[versions]\nname = 5\ncount = \"5\"\nratio = \"x\"\non = 1\nlist = \"a\"\nwait = 40\n");
  Settings s(cfg, "versions");
  struct Case {
    const char* key;
    std::function<void()> get;
  };
  std::vector<Case> cases = {
      {"name", [&] { s.text("name", ""); }},    {"count", [&] { s.integer("count", 0); }},
      {"ratio", [&] { s.number("ratio", 0); }}, {"on", [&] { s.boolean("on", false); }},
      {"list", [&] { s.list("list"); }},        {"wait", [&] { s.duration_ms("wait", "1s"); }},
  };
  for (const auto& c : cases) {
    Error e = error_of(c.get);
    EXPECT_EQ(e.code(), Exit::usage) << c.key;
    EXPECT_TRUE(contains(e.what(), k_file)) << e.message();
    EXPECT_TRUE(contains(e.what(), c.key)) << e.message();
    EXPECT_TRUE(contains(e.why(), "expected")) << e.message();
  }
  // A duration written as a bare number says what a duration looks like, not just "a string".
  EXPECT_TRUE(contains(error_of([&] { s.duration_ms("wait", "1s"); }).why(), "\"40s\"")) << "duration hint";
}

TEST(Config, BadDurationOrSizeInTheFileNamesFileAndKey) {
  Config cfg = parse("[versions]\nwait = \"40\"\nmax = \"10X\"\n");
  Settings s(cfg, "versions");
  Error d = error_of([&] { s.duration_ms("wait", "1s"); });
  EXPECT_EQ(d.code(), Exit::usage);
  EXPECT_TRUE(contains(d.what(), k_file)) << d.message();
  EXPECT_TRUE(contains(d.what(), "wait")) << d.message();
  Error z = error_of([&] { s.size("max", "1M"); });
  EXPECT_EQ(z.code(), Exit::usage);
  EXPECT_TRUE(contains(z.what(), k_file)) << z.message();
  EXPECT_TRUE(contains(z.what(), "max")) << z.message();
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  Error e = error_of([] { parse("[versions]\nok = 1\nbad = = 2\n"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_TRUE(contains(e.what(), fmt::format("{}:3:", k_file))) << e.message();
  Error dup = error_of([] { parse("[versions]\na = 1\na = 2\n"); });
  EXPECT_TRUE(contains(dup.what(), fmt::format("{}:3:", k_file))) << dup.message();
}

TEST(Config, DurationsAndSizesThroughUnits) {
  Config cfg = parse("[logs]\nretention = \"2d\"\nmax_size = \"10G\"\n");
  Settings s(cfg, "logs");
  EXPECT_EQ(s.duration_ms("retention", "1h"), 2 * 86'400'000);
  EXPECT_EQ(s.duration_ms("flush", "500ms"), 500);
  EXPECT_EQ(s.duration_ms("retention2", "1h", std::string("5m")), 300'000);
  EXPECT_EQ(s.size("max_size", "1M"), 10ull << 30);
  EXPECT_EQ(s.size("chunk", "4M"), 4ull << 20);
  EXPECT_EQ(entry(s, "retention")->value, "2d");
  EXPECT_EQ(entry(s, "retention")->source, Source::config);
  EXPECT_EQ(entry(s, "retention2")->source, Source::flag);
  EXPECT_EQ(entry(s, "chunk")->source, Source::default_value);
  EXPECT_THROW(s.duration_ms("x", "1s", std::string("forever")), Error);
}

TEST(Config, ListsAndSubtables) {
  Config cfg = parse(
      "[egress]\nallow = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\nports = [80, 443]\n"
      "[egress.limits]\nrate = \"1M\"\nburst = 4\n[egress.limits.deep]\nx = true\n");
  Settings s(cfg, "egress");
  EXPECT_EQ(s.list("allow"), (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_EQ(s.list("ports"), (std::vector<std::string>{"80", "443"}));
  EXPECT_EQ(s.list("none", {"d"}), (std::vector<std::string>{"d"}));
  EXPECT_EQ(entry(s, "none")->source, Source::default_value);
  EXPECT_EQ(entry(s, "allow")->value, "[10.0.0.0/8, 192.168.0.0/16]");
  auto sub = s.subtable("limits");
  ASSERT_EQ(sub.size(), 3u);
  EXPECT_EQ(sub.at("rate").text, "1M");
  EXPECT_EQ(sub.at("burst").integer, 4);
  EXPECT_TRUE(sub.at("deep.x").boolean);
  EXPECT_NE(entry(s, "limits.rate"), nullptr);
  EXPECT_TRUE(s.subtable("absent").empty());
  EXPECT_EQ(warnings_of(s), "");
}

TEST(Config, LoadChoosesFlagThenEnvironmentThenDefault) {
  test::TempDir tmp;
  std::string flag_file = tmp / "flag.toml", env_file = tmp / "env.toml";
  test::write_text(flag_file, "[versions]\nfrom = \"flag\"\n");
  test::write_text(env_file, "[versions]\nfrom = \"env\"\n");
  ::setenv("CUBE_CONFIG", env_file.c_str(), 1);
  Config by_flag = Config::load(flag_file);
  Config by_env = Config::load("");
  ::unsetenv("CUBE_CONFIG");
  EXPECT_TRUE(by_flag.loaded());
  EXPECT_EQ(by_flag.path(), flag_file);
  EXPECT_EQ(by_flag.leaves().at("versions.from").text, "flag");
  EXPECT_EQ(by_env.path(), env_file);
  EXPECT_EQ(by_env.leaves().at("versions.from").text, "env");
}

TEST(Config, NamedButMissingFileIsAnError) {
  test::TempDir tmp;
  std::string missing = tmp / "missing.toml";
  Error e = error_of([&] { Config::load(missing); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_TRUE(contains(e.what(), missing)) << e.message();
  ::setenv("CUBE_CONFIG", missing.c_str(), 1);
  Error env = error_of([&] { Config::load(""); });
  ::unsetenv("CUBE_CONFIG");
  EXPECT_TRUE(contains(env.what(), missing)) << env.message();
}

TEST(Config, MissingDefaultFileMeansDefaults) {
  if (fs::exists(std::string(config::k_default_path)))
    GTEST_SKIP() << config::k_default_path << " exists on this machine";
  ::unsetenv("CUBE_CONFIG");
  Config cfg = Config::load("");
  EXPECT_FALSE(cfg.loaded());
  EXPECT_EQ(cfg.path(), config::k_default_path);
  Settings s(cfg, "versions");
  EXPECT_EQ(s.integer("x", 9), 9);
  EXPECT_EQ(warnings_of(s), "");
}

TEST(Config, SyntaxErrorInALoadedFileNamesThatFile) {
  test::TempDir tmp;
  std::string file = tmp / "bad.toml";
  test::write_text(file, "[versions\n");
  Error e = error_of([&] { Config::load(file); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_TRUE(contains(e.what(), file + ":1:")) << e.message();
}

TEST(Config, DevNullMeansNoConfigFile) {
  Config cfg = Config::load("/dev/null");
  EXPECT_TRUE(cfg.leaves().empty());
  EXPECT_EQ(cfg.path(), "/dev/null");
  ::setenv("CUBE_CONFIG", "/dev/null", 1);
  Config env = Config::load("");
  ::unsetenv("CUBE_CONFIG");
  EXPECT_TRUE(env.leaves().empty());
  Settings s(env, "versions");
  EXPECT_EQ(s.integer("x", 3), 3);
  EXPECT_EQ(warnings_of(s), "");
}
