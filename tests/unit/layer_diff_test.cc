// write_layer_tar on upper directories made here: overlayfs whiteouts become OCI ones, and
// the tar unpacks (apply_layer) back into the same overlayfs whiteouts. Needs root (mknod of
// a whiteout device, trusted.* attributes), as the layer tests do.
#include "image/layer_diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/digest.h"
#include "image/layer.h"
#include "support/temp_dir.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

struct TarEntry {
  std::string path;
  mode_t type;
  std::string data;
  std::string hardlink;
  std::string symlink;
};

std::vector<TarEntry> read_tar(const std::string& bytes) {
  std::vector<TarEntry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TarEntry t{archive_entry_pathname(e), archive_entry_filetype(e), "", "", ""};
    if (auto* h = archive_entry_hardlink(e)) t.hardlink = h;
    if (auto* s = archive_entry_symlink(e)) t.symlink = s;
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.data.append(buf, n);
    out.push_back(t);
  }
  archive_read_free(a);
  return out;
}

void write(const std::string& path, const std::string& data) {
  std::ofstream(path) << data;
}

class LayerDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    fs::create_directory(upper_);
  }
  void whiteout(const std::string& rel) {
    ASSERT_EQ(mknod((upper_ + "/" + rel).c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  }
  std::string tar_of(const std::function<bool(const std::string&)>& keep, uint64_t* count) {
    std::string out;
    *count = write_layer_tar(upper_, keep, [&](std::string_view d) { out.append(d); });
    return out;
  }
  test::TempDir tmp_{"layer-diff"};
  std::string dir_ = tmp_.path(), upper_ = dir_ + "/upper";
};

bool keep_all(const std::string&) {
  return true;
}

TEST_F(LayerDiffTest, WhiteoutsBecomeOciWhiteouts) {
  write(upper_ + "/hello", "hi\n");
  whiteout("gone");
  fs::create_directory(upper_ + "/opq");
  ASSERT_EQ(setxattr((upper_ + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write(upper_ + "/opq/kept", "k");
  fs::create_directory(upper_ + "/sub");
  whiteout("sub/old");
  fs::create_symlink("/etc/passwd", upper_ + "/ln");
  write(upper_ + "/h1", "same");
  fs::create_hard_link(upper_ + "/h1", upper_ + "/h2");

  uint64_t count = 0;
  auto entries = read_tar(tar_of(keep_all, &count));
  std::vector<std::string> names;
  for (auto& e : entries) names.push_back(e.path);
  // Sorted by the names on disk ("gone" before "h1"), as Docker's walk goes.
  std::vector<std::string> disk_order = {
      ".wh.gone",         "h1",       "h2",   "hello",      "ln", "opq/",
      "opq/.wh..wh..opq", "opq/kept", "sub/", "sub/.wh.old"};
  EXPECT_EQ(names, disk_order);
  EXPECT_EQ(count, disk_order.size());
  for (auto& e : entries) {
    if (e.path == ".wh.gone" || e.path == "sub/.wh.old" || e.path == "opq/.wh..wh..opq") {
      EXPECT_EQ(e.type, AE_IFREG) << e.path;
      EXPECT_EQ(e.data, "") << e.path;
    }
    if (e.path == "hello") {
      EXPECT_EQ(e.data, "hi\n");
    }
    if (e.path == "ln") {
      EXPECT_EQ(e.symlink, "/etc/passwd");
    }
    if (e.path == "h2") {
      EXPECT_EQ(e.hardlink, "h1");
    }
  }
}

TEST_F(LayerDiffTest, UnpacksBackToOverlayWhiteouts) {
  whiteout("gone");
  fs::create_directory(upper_ + "/opq");
  ASSERT_EQ(setxattr((upper_ + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write(upper_ + "/opq/kept", "k");
  uint64_t count = 0;
  std::string bytes = tar_of(keep_all, &count);
  write(dir_ + "/layer.tar", bytes);
  apply_layer(dir_ + "/layer.tar", dir_ + "/layer");
  struct stat st;
  ASSERT_EQ(lstat((dir_ + "/layer/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char v[2] = {};
  EXPECT_EQ(getxattr((dir_ + "/layer/opq").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_TRUE(fs::exists(dir_ + "/layer/opq/kept"));
  EXPECT_FALSE(fs::exists(dir_ + "/layer/opq/.wh..wh..opq"));
}

TEST_F(LayerDiffTest, KeepLeavesOutPathsAndTheirContents) {
  fs::create_directories(upper_ + "/etc/skipped");
  write(upper_ + "/etc/hosts", "mounted over");
  write(upper_ + "/etc/skipped/inner", "x");
  write(upper_ + "/etc/mine", "y");
  uint64_t count = 0;
  auto entries = read_tar(tar_of(
      [](const std::string& p) { return p != "/etc/hosts" && p != "/etc/skipped"; }, &count));
  std::vector<std::string> names;
  for (auto& e : entries) names.push_back(e.path);
  EXPECT_EQ(names, (std::vector<std::string>{"etc/", "etc/mine"}));
}

TEST_F(LayerDiffTest, EmptyDiffIsDockersEmptyTar) {
  uint64_t count = 1;
  std::string bytes = tar_of(keep_all, &count);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(bytes, std::string(1024, '\0'));
  EXPECT_EQ(sha256_digest(bytes),
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

}  // namespace
}  // namespace berth::image
