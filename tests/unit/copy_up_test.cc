// Copy-up of an image directory into an empty volume, metadata and all.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/fs.h"
#include "support/temp_dir.h"
#include "volume/volume.h"

namespace berth::volume {
namespace {

struct stat stat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TEST(CopyUp, KeepsOwnersModesLinksAndAttributes) {
  test::TempDir dir("copyup");
  std::string src = dir / "image/etc/app", dst = dir / "volume";
  mkdir_p(src + "/conf.d");
  mkdir_p(dst);
  write_file(src + "/app.conf", "port=80\n", O_CREAT | O_TRUNC);
  ASSERT_EQ(::chown((src + "/app.conf").c_str(), 1234, 5678), 0);
  ASSERT_EQ(::chmod((src + "/app.conf").c_str(), 04640), 0);
  ASSERT_EQ(::chmod((src + "/conf.d").c_str(), 0710), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (src + "/abs-link").c_str()), 0);
  ASSERT_EQ(::link((src + "/app.conf").c_str(), (src + "/conf.d/hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::setxattr((src + "/app.conf").c_str(), "user.origin", "img", 3, 0), 0);
  ASSERT_EQ(::chown(src.c_str(), 99, 98), 0);
  ASSERT_EQ(::chmod(src.c_str(), 0750), 0);
  struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/conf.d").c_str(), old, 0), 0);

  UniqueFd s(::open(src.c_str(), O_PATH | O_DIRECTORY));
  copy_up(s.get(), dst);

  EXPECT_EQ(read_file(dst + "/app.conf"), "port=80\n");
  auto f = stat_of(dst + "/app.conf");
  EXPECT_EQ(f.st_uid, 1234u);
  EXPECT_EQ(f.st_gid, 5678u);
  EXPECT_EQ(f.st_mode & 07777, 04640u);
  EXPECT_EQ(f.st_nlink, 2u);
  EXPECT_EQ(stat_of(dst + "/conf.d/hard").st_ino, f.st_ino);
  EXPECT_EQ(stat_of(dst + "/conf.d").st_mode & 07777, 0710u);
  EXPECT_EQ(stat_of(dst + "/conf.d").st_mtim.tv_sec, 1000000000);
  char link[64] = {};
  ASSERT_GT(::readlink((dst + "/abs-link").c_str(), link, sizeof link), 0);
  EXPECT_STREQ(link, "/etc/passwd");
  EXPECT_TRUE(S_ISFIFO(stat_of(dst + "/fifo").st_mode));
  char value[8] = {};
  EXPECT_EQ(::getxattr((dst + "/app.conf").c_str(), "user.origin", value, sizeof value), 3);
  EXPECT_STREQ(value, "img");
  auto root = stat_of(dst);
  EXPECT_EQ(root.st_uid, 99u);
  EXPECT_EQ(root.st_mode & 07777, 0750u);
}

TEST(CopyUp, LeavesAVolumeWithDataAlone) {
  test::TempDir dir("copyup");
  mkdir_p(dir / "image");
  mkdir_p(dir / "volume");
  write_file(dir / "image/a", "image", O_CREAT | O_TRUNC);
  write_file(dir / "volume/b", "user's", O_CREAT | O_TRUNC);
  UniqueFd s(::open((dir / "image").c_str(), O_PATH | O_DIRECTORY));
  copy_up(s.get(), dir / "volume");
  EXPECT_FALSE(path_exists(dir / "volume/a"));
  EXPECT_EQ(read_file(dir / "volume/b"), "user's");
}

}  // namespace
}  // namespace berth::volume
