// cube::rootfs::Tree: OCI layer rules on the metadata tree (whiteouts, opaque directories,
// hardlinks, symlinked parents), path checks and the entry limit.
#include "cube-rootfs/layer_tree.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

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

// Links let a few short entries reach any depth; no name may be deeper than PATH_MAX.
TEST(RootfsTree, PathsThroughLinksAreBoundedByPathMax) {
  Tree t;
  t.apply(0, 0, dir("d"), "test");
  t.apply(0, 1, slink("s0", "d"), "test");
  std::string levels;
  for (int i = 0; i < 1500; ++i) levels += "a/";
  t.apply(0, 2, slink("s1", "s0/" + levels), "test");
  EXPECT_NO_THROW(t.apply(0, 3, file("s1/f"), "test"));  // 3,000 bytes deep
  t.apply(0, 4, slink("s2", "s1/" + levels), "test");
  try {
    t.apply(0, 5, file("s2/f"), "test");
    FAIL() << "a path of 6,000 bytes through links was accepted";
  } catch (const cube::Error& e) {
    EXPECT_NE(e.message().find("bytes deep"), std::string::npos) << e.message();
  }
  EXPECT_EQ(t.lookup("s2/f"), nullptr);
}

TEST(RootfsTree, OutsideFileNeverReplacesADirectory) {
  Tree t;
  t.apply(0, 0, file("etc/passwd"), "test");
  t.apply(0, 1, dir("empty"), "test");
  EXPECT_THROW(t.add_outside_file("/etc", 0644, 1, "/src"), cube::Error);
  EXPECT_THROW(t.add_outside_file("/empty/", 0644, 1, "/src"), cube::Error);
  EXPECT_NO_THROW(t.add_outside_file("/etc/passwd", 0644, 1, "/src"));
  EXPECT_EQ(t.lookup("/etc/passwd")->inode->src_path, "/src");
}
