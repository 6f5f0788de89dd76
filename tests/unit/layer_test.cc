// apply_layer on archives made here, including hostile ones.
#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "support/file.h"
#include "support/temp_dir.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path{};
  mode_t type = AE_IFREG;
  std::string data{};
  std::string link{};  // symlink target
  std::string hardlink{};
  unsigned mode = 0644;
  dev_t rdev = 0;
  int64_t uid = 0, gid = 0;
  time_t mtime = 0;
  std::vector<std::pair<std::string, std::string>> xattrs{};
};

void write_tar(const std::string& file, const std::vector<Entry>& entries, bool gzip = false) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (auto& en : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, en.path.c_str());
    if (!en.hardlink.empty()) {
      archive_entry_set_hardlink(e, en.hardlink.c_str());
    } else {
      archive_entry_set_filetype(e, en.type);
    }
    archive_entry_set_perm(e, en.mode);
    archive_entry_set_uid(e, en.uid);
    archive_entry_set_gid(e, en.gid);
    archive_entry_set_mtime(e, en.mtime, 0);
    for (auto& [name, value] : en.xattrs)
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    if (en.type == AE_IFLNK) archive_entry_set_symlink(e, en.link.c_str());
    if (en.type == AE_IFBLK || en.type == AE_IFCHR) archive_entry_set_rdev(e, en.rdev);
    archive_entry_set_size(e, en.type == AE_IFREG && en.hardlink.empty() ? en.data.size() : 0);
    archive_write_header(a, e);
    if (!en.data.empty()) archive_write_data(a, en.data.data(), en.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class LayerTest : public ::testing::Test {
 protected:
  std::string tar() const { return dir_ / "layer.tar"; }
  std::string dest() const { return dir_ / "layer"; }
  // Unpacking must fail naming `what`, and leave no directory behind.
  void expect_refused(const std::string& what) {
    try {
      apply_layer(tar(), dest());
      ADD_FAILURE() << "expected a refusal naming " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dest()));
  }
  test::TempDir dir_{"layer"};
};

using test::slurp;

TEST_F(LayerTest, FilesLinksAndWhiteouts) {
  write_tar(tar(), {{"etc/", AE_IFDIR, "", "", "", 0755},
                    {"etc/hostname", AE_IFREG, "box\n", "", "", 0600},
                    {"bin/sh-link", AE_IFLNK, "", "/bin/busybox"},
                    {"etc/hostname-hard", AE_IFREG, "", "", "etc/hostname"},
                    {"var/.wh.cache", AE_IFREG},
                    {"opt/.wh..wh..opq", AE_IFREG},
                    {"/abs/file", AE_IFREG, "confined"}});
  auto stats = apply_layer(tar(), dest());
  EXPECT_EQ(slurp(dest() + "/etc/hostname"), "box\n");
  EXPECT_EQ(fs::status(dest() + "/etc/hostname").permissions() & fs::perms::all, fs::perms(0600));
  EXPECT_EQ(fs::read_symlink(dest() + "/bin/sh-link"), "/bin/busybox");
  struct stat a, b;
  ASSERT_EQ(stat((dest() + "/etc/hostname").c_str(), &a), 0);
  ASSERT_EQ(stat((dest() + "/etc/hostname-hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  struct stat wh;
  ASSERT_EQ(lstat((dest() + "/var/cache").c_str(), &wh), 0);
  EXPECT_TRUE(S_ISCHR(wh.st_mode));
  EXPECT_EQ(wh.st_rdev, makedev(0, 0));
  char v[4] = {};
  EXPECT_EQ(getxattr((dest() + "/opt").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_EQ(slurp(dest() + "/abs/file"), "confined");
  EXPECT_EQ(stats.bytes, 4u + 8u);
}

TEST_F(LayerTest, GzipLayers) {
  write_tar(tar(), {{"a.txt", AE_IFREG, "compressed"}}, true);
  apply_layer(tar(), dest());
  EXPECT_EQ(slurp(dest() + "/a.txt"), "compressed");
}

TEST_F(LayerTest, DotDotIsRefused) {
  write_tar(tar(), {{"ok", AE_IFREG, "x"}, {"../escaped", AE_IFREG, "evil"}});
  expect_refused("leaves the layer");
  EXPECT_FALSE(fs::exists(dir_ / "escaped"));
}

TEST_F(LayerTest, WritingThroughASymlinkIsRefused) {
  fs::create_directories(dir_ / "outside");
  write_tar(tar(), {{"link", AE_IFLNK, "", dir_ / "outside"}, {"link/pwned", AE_IFREG, "evil"}});
  expect_refused("symlink");
  EXPECT_FALSE(fs::exists(dir_ / "outside/pwned"));
}

TEST_F(LayerTest, HardLinkOutsideIsRefused) {
  write_tar(tar(), {{"passwd", AE_IFREG, "", "", "../../../etc/passwd"}});
  expect_refused("leaves the layer");
}

TEST_F(LayerTest, DeviceNodesAreNotCreated) {
  write_tar(tar(), {{"dev/sda", AE_IFBLK, "", "", "", 0600, makedev(8, 0)},
                    {"dev/mem", AE_IFCHR, "", "", "", 0600, makedev(1, 1)},
                    {"file", AE_IFREG, "x"}});
  apply_layer(tar(), dest());
  EXPECT_FALSE(fs::exists(dest() + "/dev/sda"));
  EXPECT_FALSE(fs::exists(dest() + "/dev/mem"));
  EXPECT_TRUE(fs::exists(dest() + "/file"));
}

TEST_F(LayerTest, CorruptAndTruncatedArchives) {
  std::ofstream(tar()) << "this is not a tar archive at all, just some text";
  EXPECT_THROW(apply_layer(tar(), dest()), Error);
  EXPECT_FALSE(fs::exists(dest()));
  write_tar(tar(), {{"big", AE_IFREG, std::string(100000, 'z')}});
  fs::resize_file(tar(), 20000);
  expect_refused("layer");
}

// The unpacker keeps the directories of the last entry open: an entry that replaces one of
// them by a symlink must not let a later entry write through it.
TEST_F(LayerTest, ADirectoryReplacedByASymlinkIsNotWrittenThrough) {
  fs::create_directories(dir_ / "outside");
  write_tar(tar(), {{"a/", AE_IFDIR, "", "", "", 0755},
                    {"a/b/", AE_IFDIR, "", "", "", 0755},
                    {"a/b/f", AE_IFREG, "first"},
                    {"a", AE_IFLNK, "", dir_ / "outside"},
                    {"a/b/g", AE_IFREG, "evil"}});
  expect_refused("symlink");
  EXPECT_TRUE(fs::is_empty(dir_ / "outside"));
}

TEST_F(LayerTest, LaterEntriesReplaceEarlierOnes) {
  write_tar(tar(), {{"d/f", AE_IFREG, "one"},
                    {"d/f", AE_IFREG, "two"},
                    {"d/x", AE_IFREG, "file"},
                    {"d/x/", AE_IFDIR, "", "", "", 0700},
                    {"d/x/in", AE_IFREG, "inside"},
                    {"d", AE_IFREG, "now a file"},
                    {"e/", AE_IFDIR},
                    {"e/s", AE_IFLNK, "", "target"},
                    {"e/s", AE_IFREG, "no longer a link"}});
  apply_layer(tar(), dest());
  EXPECT_EQ(slurp(dest() + "/d"), "now a file");
  EXPECT_EQ(slurp(dest() + "/e/s"), "no longer a link");
  EXPECT_FALSE(fs::is_symlink(dest() + "/e/s"));
}

TEST_F(LayerTest, ModesAndTimesAreTheHeaders) {
  write_tar(tar(), {{"bin/", AE_IFDIR, "", "", "", 0700, 0, 0, 0, 1000000000},
                    {"bin/su", AE_IFREG, "x", "", "", 04711, 0, 0, 0, 1200000000},
                    {"bin/ro", AE_IFREG, "y", "", "", 0444}});
  apply_layer(tar(), dest());
  struct stat su, ro;
  ASSERT_EQ(stat((dest() + "/bin/su").c_str(), &su), 0);
  EXPECT_EQ(su.st_mode & 07777, 04711u);
  EXPECT_EQ(su.st_mtime, 1200000000);
  ASSERT_EQ(stat((dest() + "/bin/ro").c_str(), &ro), 0);
  EXPECT_EQ(ro.st_mode & 07777, 0444u);
  EXPECT_EQ(slurp(dest() + "/bin/ro"), "y");
  EXPECT_EQ(fs::status(dest() + "/bin").permissions() & fs::perms::all, fs::perms(0700));
}

// Owners are set only when creation did not already give them; a setgid directory hands
// its group to new entries, so they must still be given the header's. A file capability
// survives its file's chown.
TEST_F(LayerTest, OwnersAndXattrsAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  // vfs_cap_data revision 2, effective, permitted: CAP_NET_RAW.
  std::string cap(20, '\0');
  cap[0] = 1;
  cap[3] = 2;
  cap[5] = 0x20;
  write_tar(tar(), {{"sg/", AE_IFDIR, "", "", "", 02755, 0, 0, 1000},
                    {"sg/root", AE_IFREG, "r"},
                    {"sg/sub/", AE_IFDIR, "", "", "", 0755},
                    {"user",
                     AE_IFREG,
                     "u",
                     "",
                     "",
                     0755,
                     0,
                     1000,
                     1001,
                     0,
                     {{"user.test", "kept"}, {"security.capability", cap}}},
                    {"link", AE_IFLNK, "", "user", "", 0777, 0, 1002, 1003}});
  apply_layer(tar(), dest());
  struct stat st;
  ASSERT_EQ(stat((dest() + "/sg").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 1000u);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  ASSERT_EQ(stat((dest() + "/sg/root").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 0u);
  ASSERT_EQ(stat((dest() + "/sg/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 0u);
  ASSERT_EQ(stat((dest() + "/user").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  char v[8] = {};
  EXPECT_EQ(getxattr((dest() + "/user").c_str(), "user.test", v, sizeof v), 4);
  EXPECT_STREQ(v, "kept");
  char c[32];
  EXPECT_EQ(getxattr((dest() + "/user").c_str(), "security.capability", c, sizeof c), 20);
  ASSERT_EQ(lstat((dest() + "/link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1002u);
  EXPECT_EQ(st.st_gid, 1003u);
}

}  // namespace
}  // namespace berth::image
