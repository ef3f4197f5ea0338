// cube-versions modules: report parsing and hashing, manifest parsing, declared versions.
#include "cube-versions/component.hpp"
#include "cube-versions/manifest.hpp"
#include "cube-versions/matrix.hpp"
#include "cube-versions/report.hpp"
#include "error.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::versions;

TEST(VersionsReport, HashIgnoresOrderButNotContent) {
  std::vector<Component> a = {{"kernel", "6.6", "", "", "file"}, {"guest-image", "1.4.0", "", "", "file"}};
  std::vector<Component> b = {a[1], a[0]};
  EXPECT_EQ(report_hash(a), report_hash(b));
  b[0].version = "1.4.1";
  EXPECT_NE(report_hash(a), report_hash(b));
  // Field boundaries matter: moving a character between fields changes the hash.
  std::vector<Component> c = {{"ab", "c", "", "", ""}}, d = {{"a", "bc", "", "", ""}};
  EXPECT_NE(report_hash(c), report_hash(d));
}

TEST(VersionsReport, ParseSkipsBlankLinesAndNamesBadOnes) {
  auto rows = parse_report("{\"component\":\"a\",\"version\":\"1\"}\n\n  \n{\"component\":\"b\",\"version\":\"2\"}");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].component, "b");
  try {
    parse_report("{\"component\":\"a\",\"version\":\"1\"}\n[1]\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_STREQ(e.what(), "report line 2 is invalid");
  }
}

TEST(VersionsReport, FieldLimitsAndControlBytes) {
  Component ok{"kernel", std::string(k_max_version, 'v'), "", "", "file"};
  EXPECT_EQ(invalid_reason(ok), "");
  Component long_version = ok;
  long_version.version += "v";
  EXPECT_NE(invalid_reason(long_version).find("version is 129 bytes"), std::string::npos);
  Component control = ok;
  control.commit = "abc\x1b[2J";
  EXPECT_NE(invalid_reason(control).find("control character"), std::string::npos);
  Component empty = ok;
  empty.component = "";
  EXPECT_EQ(invalid_reason(empty), "component is empty");
}

TEST(VersionsManifest, KernelIdentity) {
  EXPECT_EQ(kernel_identity("6.6", "sha256:ab"), "6.6@sha256:ab");
  EXPECT_EQ(kernel_identity("unknown", "sha256:ab"), "sha256:ab");
  EXPECT_EQ(kernel_identity("6.6", ""), "6.6");
  EXPECT_EQ(kernel_identity("unknown", "unknown"), "");
}

TEST(VersionsManifest, DeclaredVersionsFollowSpec64) {
  Manifest m = parse_manifest(R"({"release_version":"0.4.0",
    "components":{"cube-sched":{"version":"0.4.0"},"guest-image":{"version":"old"},"x":{"version":"unknown"}},
    "guest_image":{"version":"1.4.0","agent_version":"0.9.1"},
    "kernel":{"version":"6.6","vmlinux_digest_sha256":"sha256:aa","pvm_version":"6.6-pvm",
              "vmlinux_pvm_digest_sha256":"sha256:bb"}})",
                              "test");
  Declared d = declared_versions(m);
  EXPECT_EQ(d["cube-sched"], std::vector<std::string>{"0.4.0"});
  EXPECT_EQ(d["guest-image"], std::vector<std::string>{"1.4.0"});  // guest_image wins over components
  EXPECT_EQ(d["cube-agent"], std::vector<std::string>{"0.9.1"});
  EXPECT_EQ(d["kernel"], (std::vector<std::string>{"6.6-pvm@sha256:bb", "6.6@sha256:aa"}));
  EXPECT_EQ(d.count("x"), 0u);  // "unknown" is never declared
}

TEST(VersionsManifest, BadShapesAreUsageErrors) {
  for (const char* bad :
       {"", "[]", "{}", R"({"release_version":""})", R"({"release_version":1})",
        R"({"release_version":"1","components":[]})", R"({"release_version":"1","components":{"a":{"version":5}}})",
        R"({"release_version":"1","kernel":"6.6"})"}) {
    try {
      parse_manifest(bad, "m.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("m.json"), std::string::npos);
    }
  }
}

TEST(VersionsManifest, RenderRoundTrips) {
  Manifest m;
  m.release_version = "0.4.0";
  m.components["cube-sched"] = {"0.4.0", "abc", "2026-01-01T00:00:00Z", "sha256:00"};
  m.guest_image.version = "1.4.0";
  std::string text = render_manifest(m);
  EXPECT_EQ(text.back(), '\n');
  Manifest back = parse_manifest(text, "rendered");
  EXPECT_EQ(back.components.at("cube-sched").digest_sha256, "sha256:00");
  EXPECT_EQ(back.guest_image.version, "1.4.0");
  EXPECT_EQ(render_manifest(back), text);
}

TEST(Jitter, DrawsFromTToOnePointFiveT) {
  for (int64_t t : {1, 2, 3, 10, 1000, 10'000}) {
    int64_t hi = 0;
    for (int i = 0; i < 2000; ++i) {
      int64_t d = time::jittered_ms(t);
      hi = std::max(hi, d);
      ASSERT_GE(d, t);
      ASSERT_LT(d * 2, t * 3);  // d < 1.5 t
    }
    if (t >= 10) {
      EXPECT_GT(hi, t + t / 4) << "the draw should spread over the range";
    }
  }
  EXPECT_EQ(time::jittered_ms(0), 0);
}
