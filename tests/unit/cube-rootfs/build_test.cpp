// cube-rootfs pure logic: the layer rules on the metadata tree, path checks, and the size model.
#include "cube-rootfs/layer_tree.hpp"
#include "cube-rootfs/sizing.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace cube::rootfs;

namespace {

Entry file(std::string path, uint64_t size = 1) {
  Entry e;
  e.path = std::move(path);
  e.size = size;
  e.mode = 0644;
  return e;
}
Entry dir(std::string path) {
  Entry e;
  e.path = std::move(path);
  e.kind = Kind::directory;
  e.mode = 0755;
  return e;
}
Entry slink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.kind = Kind::symlink;
  e.link = std::move(target);
  e.mode = 0777;
  return e;
}
Entry hardlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.is_hardlink = true;
  e.link = std::move(target);
  return e;
}

constexpr uint64_t k_mib = 1 << 20;

}  // namespace

TEST(RootfsTree, WhiteoutHidesOnlyLowerLayers) {
  Tree t;
  t.apply(0, 0, file("a/x"), "l0");
  t.apply(1, 0, file("a/y"), "l1");
  t.apply(1, 1, file("a/.wh.y"), "l1");  // same layer: stays
  t.apply(1, 2, file("a/.wh.x"), "l1");  // lower layer: goes
  EXPECT_EQ(t.lookup("a/x"), nullptr);
  EXPECT_NE(t.lookup("a/y"), nullptr);
}

TEST(RootfsTree, OpaqueKeepsSameLayerChildren) {
  Tree t;
  t.apply(0, 0, file("d/old"), "l0");
  t.apply(1, 0, dir("d"), "l1");
  t.apply(1, 1, file("d/new"), "l1");
  t.apply(1, 2, file("d/.wh..wh..opq"), "l1");
  EXPECT_EQ(t.lookup("d/old"), nullptr);
  EXPECT_NE(t.lookup("d/new"), nullptr);
}

TEST(RootfsTree, HardlinkSurvivesRemovalOfItsTarget) {
  Tree t;
  EXPECT_TRUE(t.apply(0, 0, file("t", 5), "l0"));
  t.apply(1, 0, hardlink("h", "t"), "l1");
  t.apply(2, 0, file(".wh.t"), "l2");
  Node* h = t.lookup("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->inode->src_layer, 0);  // content still comes from layer 0's entry
  TreeStats st = t.finish();
  EXPECT_EQ(h->inode->nlink, 1u);
  EXPECT_EQ(st.content_bytes, 5u);
}

TEST(RootfsTree, ReplacedFileNeedsNoData) {
  Tree t;
  t.apply(0, 0, file("f", 10), "l0");
  t.apply(1, 0, file("f", 20), "l1");
  EXPECT_EQ(t.lookup("f")->inode->src_layer, 1);
  EXPECT_EQ(t.finish().content_bytes, 20u);
}

TEST(RootfsTree, DirectoryOverDirectoryKeepsChildren) {
  Tree t;
  t.apply(0, 0, file("d/c"), "l0");
  Entry d = dir("d");
  d.mode = 0700;
  t.apply(1, 0, d, "l1");
  EXPECT_NE(t.lookup("d/c"), nullptr);
  EXPECT_EQ(t.lookup("d")->inode->mode, 0700u);
}

TEST(RootfsTree, RefusesEscapesAndBadLinks) {
  Tree t;
  EXPECT_THROW(t.apply(0, 0, file("a/../../x"), "l0"), cube::Error);
  EXPECT_THROW(t.apply(0, 1, hardlink("h", "missing"), "l0"), cube::Error);
  t.apply(0, 2, dir("d"), "l0");
  EXPECT_THROW(t.apply(0, 3, hardlink("h", "d"), "l0"), cube::Error);
  t.apply(0, 4, file("f"), "l0");
  EXPECT_THROW(t.apply(0, 5, file("f/under"), "l0"), cube::Error);  // a file is no directory
  EXPECT_THROW(t.apply(0, 6, file(std::string(256, 'n')), "l0"), cube::Error);
}

// Symlinked parents are followed inside the tree as umoci (filepath-securejoin) does.
TEST(RootfsTree, FollowsSymlinkedParentsInsideTheRoot) {
  Tree t;
  t.apply(0, 0, dir("usr/lib"), "l0");
  t.apply(0, 1, slink("lib", "usr/lib"), "l0");
  t.apply(0, 2, slink("abs", "/usr/lib"), "l0");
  t.apply(0, 3, slink("usr/up", "../../../../usr/lib"), "l0");  // ".." stops at the root
  t.apply(0, 4, slink("chain", "lib"), "l0");
  t.apply(0, 5, slink("dangling", "new/dir"), "l0");
  t.apply(1, 0, file("lib/a"), "l1");
  t.apply(1, 1, file("abs/b"), "l1");
  t.apply(1, 2, file("usr/up/c"), "l1");
  t.apply(1, 3, file("chain/d"), "l1");
  t.apply(1, 4, file("dangling/e"), "l1");  // the missing directories are made
  // Where the links lead, as real directories (so lookup() follows nothing on the way).
  for (const char* d : {"usr", "usr/lib", "new", "new/dir"}) EXPECT_EQ(t.lookup(d)->inode->kind, Kind::directory) << d;
  for (const char* p : {"usr/lib/a", "usr/lib/b", "usr/lib/c", "usr/lib/d", "new/dir/e"})
    EXPECT_NE(t.lookup(p), nullptr) << p;
  EXPECT_EQ(t.lookup("lib")->inode->kind, Kind::symlink);  // the link itself stays
  // Hardlink targets and whiteouts go through links too; a whiteout creates nothing.
  t.apply(2, 0, hardlink("h", "chain/a"), "l2");
  EXPECT_EQ(t.lookup("h")->inode, t.lookup("usr/lib/a")->inode);
  t.apply(2, 1, file("lib/.wh.b"), "l2");
  EXPECT_EQ(t.lookup("usr/lib/b"), nullptr);
  t.apply(2, 2, file("nothere/.wh.x"), "l2");
  EXPECT_EQ(t.lookup("nothere"), nullptr);
  EXPECT_EQ(t.lookup("chain", Tree::Follow::last), t.lookup("usr/lib"));
}

TEST(RootfsTree, SymlinkLoopsAndFileParentsAreErrors) {
  Tree t;
  t.apply(0, 0, slink("l1", "l2"), "l0");
  t.apply(0, 1, slink("l2", "/l1"), "l0");
  t.apply(0, 2, file("f"), "l0");
  t.apply(0, 3, slink("tofile", "f"), "l0");
  EXPECT_THROW(t.apply(1, 0, file("l1/x"), "l1"), cube::Error);
  EXPECT_THROW(t.apply(1, 1, file("tofile/x"), "l1"), cube::Error);
  EXPECT_EQ(t.lookup("l1", Tree::Follow::last), nullptr);
}

// umoci keeps what a layer wrote beneath a directory a later whiteout in the same layer names.
TEST(RootfsTree, WhiteoutKeepsThisLayersEntriesBeneath) {
  Tree t;
  t.apply(0, 0, file("d/old"), "l0");
  t.apply(0, 1, file("d/sub/lower"), "l0");
  t.apply(1, 0, file("d/sub/new"), "l1");
  t.apply(1, 1, file("d/.wh..wh..opq"), "l1");
  EXPECT_EQ(t.lookup("d/old"), nullptr);
  EXPECT_EQ(t.lookup("d/sub/lower"), nullptr);
  EXPECT_NE(t.lookup("d/sub/new"), nullptr);
}

TEST(RootfsTree, EntryLimit) {
  Limits l;
  l.max_entries = 2;
  Tree t(l);
  t.apply(0, 0, file("a"), "l0");
  t.apply(0, 1, file("b"), "l0");
  EXPECT_THROW(t.apply(0, 2, file("c"), "l0"), cube::Error);
}

// The examples of spec §4.4.
TEST(RootfsSizing, UpstreamModelExamples) {
  ModelKnobs k;
  TreeStats st;
  EXPECT_EQ(model_bytes(st, k), 1024 * k_mib);
  st.data_bytes = 1024 * k_mib;
  st.non_dirs = 10000;
  EXPECT_EQ(model_bytes(st, k), 1536 * k_mib);
  st.data_bytes = 3 * 1024 * k_mib + 5;
  st.non_dirs = 200000;
  EXPECT_EQ(model_bytes(st, k), 3840 * k_mib);
}

TEST(RootfsSizing, FixedSizeTooSmallIsRefused) {
  TreeStats st;
  st.content_blocks = 10000;  // 40 MiB
  st.inodes = 10;
  SizeRequest r;
  r.mode = SizeMode::fixed;
  r.fixed_bytes = 16 * k_mib;
  EXPECT_THROW(plan_size(st, r, {}), cube::Error);
  r.fixed_bytes = 128 * k_mib;
  EXPECT_NO_THROW(plan_size(st, r, {}));
}

TEST(RootfsSizing, ExactLeavesTheHeadroom) {
  TreeStats st;
  st.content_blocks = 5000;
  st.inodes = 100;
  SizeRequest r;
  r.mode = SizeMode::exact;
  FsParams p = plan_size(st, r, {});
  r.headroom = 64 * k_mib;
  FsParams q = plan_size(st, r, {});
  EXPECT_GE(capacity_blocks(p.bytes, p.inodes, p.journal_blocks), needed_blocks(st));
  EXPECT_GE(q.bytes, p.bytes + 64 * k_mib);
}

// The lock-down: a child that installed the policy is killed by SIGSYS when it opens a socket or
// execs, and cannot create files outside its writable directory (Landlock, where the kernel has it).
#include "cube-rootfs/seccomp_policy.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <thread>

namespace {

int in_locked_child(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    cube::rootfs::install_build_policy({"/tmp"}, {});
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

TEST(RootfsSeccomp, SocketsAndExecAreFatal) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "sanitizer builds load no seccomp filter (common/seccomp.hpp)";
#endif
  EXPECT_EQ(in_locked_child([] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; }), -SIGSYS);
  EXPECT_EQ(in_locked_child([] {
              execl("/bin/true", "true", nullptr);
              return 1;
            }),
            -SIGSYS);
  EXPECT_EQ(in_locked_child([] { return 7; }), 7);  // ordinary work goes on
}

TEST(RootfsSeccomp, ThreadsMayStartButProcessesMayNot) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "sanitizer builds load no seccomp filter (common/seccomp.hpp)";
#endif
  EXPECT_EQ(in_locked_child([] {
              int answer = 0;
              std::thread t([&] { answer = 42; });
              t.join();
              return answer;
            }),
            42);
  EXPECT_EQ(in_locked_child([] { return fork() >= 0 ? 0 : 1; }), -SIGSYS);
}

TEST(RootfsSeccomp, PolicyTextListsTheAllowlist) {
  std::string pfc = cube::rootfs::policy_text();
  EXPECT_NE(pfc.find("pwrite64"), std::string::npos);
  EXPECT_EQ(pfc.find("execve"), std::string::npos);
  EXPECT_EQ(pfc.find("socket"), std::string::npos);
}

TEST(RootfsLandlock, NoFilesOutsideTheWritableDirectory) {
  int rc = in_locked_child([] {
    int fd = open("/var/tmp/cube-landlock-probe", O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      unlink("/var/tmp/cube-landlock-probe");
      return 2;  // created: Landlock is not available here
    }
    return errno == EACCES ? 0 : 3;
  });
  if (rc == 2) GTEST_SKIP() << "the kernel has no Landlock";
  EXPECT_EQ(rc, 0);
}

// Request validation (spec §4.1, §3.10 item 4) and the spec fingerprint (§4.3).
#include "cube-rootfs/registry_pull.hpp"
#include "cube-rootfs/request.hpp"

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
