// cube::rootfs registry pulls: skopeo's arguments and the auth file it is given.
#include "cube-rootfs/registry_pull.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace cube::rootfs;

// Every value reaches skopeo glued to its option or behind docker://, so none reads as an option.
TEST(RootfsPull, SkopeoArgumentsCarryValuesInOneArgument) {
  PullRequest p;
  p.ref = "registry.local:5000/app:1";
  p.layout = "/store/.incoming/tpl-x-oci";
  p.auth_file = "/etc/auth";
  p.auth_tmp = "/store/.incoming/tpl-x-auth.json";
  p.tls_verify = false;
  p.cert_dir = "/etc/certs";
  std::vector<std::string> want = {"skopeo",
                                   "copy",
                                   "-q",
                                   "--src-authfile=/store/.incoming/tpl-x-auth.json",
                                   "--src-tls-verify=false",
                                   "--src-cert-dir=/etc/certs",
                                   "docker://registry.local:5000/app:1",
                                   "oci:/store/.incoming/tpl-x-oci:image"};
  EXPECT_EQ(skopeo_args(p), want);
  EXPECT_EQ(skopeo_args(PullRequest{"a/b", "/l", "", "", true, ""}).size(), 5u);
}

TEST(RootfsPull, AuthFileNamesTheRegistryHost) {
  EXPECT_EQ(registry_host("registry.local:5000/app:1"), "registry.local:5000");
  EXPECT_EQ(registry_host("localhost/app"), "localhost");
  EXPECT_EQ(registry_host("library/debian:12"), "docker.io");
  EXPECT_EQ(registry_host("debian"), "docker.io");
  EXPECT_EQ(registry_auth_json("127.0.0.1:5000/a:1", "alice:pw\n"),
            R"({"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6cHc="}}})");
  EXPECT_THROW(registry_auth_json("a/b", "no-colon"), cube::Error);
  EXPECT_THROW(registry_auth_json("a/b", ":pw"), cube::Error);
}
