// cube::rootfs::TemplateRequest: validation (doc/cube-rootfs.md, "Requests"), the spec fingerprint
// (doc/cube-rootfs.md, "Fingerprints and dedup") and generated template IDs.
#include "cube-rootfs/request.hpp"
#include "error.hpp"
#include "ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace cube::rootfs;

namespace {

TemplateRequest valid_request() {
  TemplateRequest r;
  r.image = "oci:/x";
  r.writable_layer_size = 1 << 30;
  return r;
}

}  // namespace

TEST(RootfsRequest, PortsAreSortedDeduplicatedAndLimited) {
  TemplateRequest r = valid_request();
  r.ports = {8080, 49983, 80, 8080, 443};
  normalise(r);
  EXPECT_EQ(r.ports, (std::vector<int>{80, 443, 8080, 49983}));  // 49983 does not count toward 3
  r.ports.push_back(22);
  EXPECT_THROW(normalise(r), cube::Error);
  r.ports = {0};
  EXPECT_THROW(normalise(r), cube::Error);
}

TEST(RootfsRequest, DomainsNeedInternetOff) {
  TemplateRequest r = valid_request();
  r.allow_out = {"*.example.com", "10.0.0.0/8"};
  EXPECT_THROW(normalise(r), cube::Error);
  r.deny_out = {"0.0.0.0/0"};
  EXPECT_NO_THROW(normalise(r));
  r.deny_out.clear();
  r.no_internet = true;
  EXPECT_NO_THROW(normalise(r));
  for (const char* bad : {"exa mple.com", "-a.com", "com", "1.2.3", "a..b.com", "10.0.0.0/33"}) {
    r.allow_out = {bad};
    EXPECT_THROW(normalise(r), cube::Error) << bad;
  }
}

TEST(RootfsRequest, EnvAndPullReferences) {
  TemplateRequest r = valid_request();
  r.env = {"A_1=x", "_B="};
  EXPECT_NO_THROW(normalise(r));
  for (const char* bad : {"1A=x", "A", "=x", "A-B=x"}) {
    r.env = {bad};
    EXPECT_THROW(normalise(r), cube::Error) << bad;
  }
  r.env.clear();
  r.pull = true;
  r.image = "docker://registry.local:5000/team/app@sha256:abc";
  normalise(r);
  EXPECT_EQ(r.image, "registry.local:5000/team/app@sha256:abc");
  for (const char* bad : {"-rm", "a b", "x;rm", "$(id)"}) {
    r.image = bad;
    EXPECT_THROW(normalise(r), cube::Error) << bad;
  }
}

TEST(RootfsRequest, PullOptionsNeedPullAndAbsolutePaths) {
  TemplateRequest r = valid_request();
  r.tls_verify = false;
  EXPECT_THROW(normalise(r), cube::Error);  // not without --pull
  r.pull = true;
  r.image = "registry.local:5000/app:1";
  EXPECT_NO_THROW(normalise(r));
  r.cert_dir = "-certs";
  EXPECT_THROW(normalise(r), cube::Error);
  r.cert_dir = "/etc/certs";
  EXPECT_NO_THROW(normalise(r));
  // The request keeps them for a redo.
  TemplateRequest back = request_from_json(to_json(r));
  EXPECT_FALSE(back.tls_verify);
  EXPECT_EQ(back.cert_dir, "/etc/certs");
}

TEST(RootfsRequest, FingerprintFollowsTheSpecFields) {
  TemplateRequest a = valid_request(), b = valid_request();
  EXPECT_EQ(spec_fingerprint(a, "sha256:1"), spec_fingerprint(b, "sha256:1"));
  EXPECT_NE(spec_fingerprint(a, "sha256:1"), spec_fingerprint(a, "sha256:2"));
  b.ports = {80};
  EXPECT_NE(spec_fingerprint(a, "sha256:1"), spec_fingerprint(b, "sha256:1"));
  b = valid_request();
  b.ca_fingerprint = "ab";
  EXPECT_NE(spec_fingerprint(a, "sha256:1"), spec_fingerprint(b, "sha256:1"));
  b = valid_request();
  b.dns = {"1.1.1.1"};  // network policy is the template's, not the artifact's
  EXPECT_EQ(spec_fingerprint(a, "sha256:1"), spec_fingerprint(b, "sha256:1"));
  EXPECT_EQ(artifact_id_of(spec_fingerprint(a, "sha256:1")).size(), 28u);
}

TEST(RootfsTemplateId, GeneratedIdsAreTplAnd24FreshHexDigits) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string t = new_template_id();
    ASSERT_EQ(t.size(), 28u) << t;
    EXPECT_TRUE(t.starts_with("tpl-")) << t;
    for (char c : t.substr(4)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << t;
    EXPECT_TRUE(cube::ids::is_path_safe(t));
    EXPECT_EQ(cube::ids::check_template_ref(t), t);  // what the user gives back is accepted
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 200u);
}
