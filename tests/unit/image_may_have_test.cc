// The look into an image's layers that spares a create the overlay mount when a volume's
// path is surely not in the image.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fs.h"
#include "engine/container_mounts.h"
#include "support/temp_dir.h"

namespace berth::engine {
namespace {

TEST(ImageMayHave, FindsPathsInAnyLayerAndOnlyThem) {
  test::TempDir dir("layers");
  std::string top = dir / "top", base = dir / "base";
  mkdir_p(top + "/var/lib");
  mkdir_p(base + "/etc/app");
  std::vector<std::string> layers = {top, base};

  EXPECT_TRUE(image_may_have(layers, "/etc/app"));
  EXPECT_TRUE(image_may_have(layers, "/etc/app/"));
  EXPECT_TRUE(image_may_have(layers, "/var/lib"));
  EXPECT_FALSE(image_may_have(layers, "/data"));
  EXPECT_FALSE(image_may_have(layers, "/etc/other"));
  EXPECT_FALSE(image_may_have(layers, "/var/lib/db"));
  // A path under a file of the image is not there either.
  write_file(base + "/etc/app/conf", "x", O_CREAT | O_TRUNC);
  EXPECT_FALSE(image_may_have(layers, "/etc/app/conf/d"));
}

TEST(ImageMayHave, LinksAndDotDotAreAlwaysLookedAt) {
  test::TempDir dir("layers");
  std::string top = dir / "top", base = dir / "base";
  mkdir_p(top);
  mkdir_p(base + "/real/data");
  // /srv -> /real in the top layer: /srv/data is the base layer's /real/data once merged.
  ASSERT_EQ(::symlink("/real", (top + "/srv").c_str()), 0);
  std::vector<std::string> layers = {top, base};
  EXPECT_TRUE(image_may_have(layers, "/srv/data"));
  EXPECT_TRUE(image_may_have(layers, "/srv/nothing"));
  EXPECT_TRUE(image_may_have(layers, "/real/../real/data"));
}

TEST(ImageMayHave, AWhiteoutStillCountsAsMaybe) {
  test::TempDir dir("layers");
  std::string top = dir / "top", base = dir / "base";
  mkdir_p(top);
  mkdir_p(base + "/gone");
  ASSERT_EQ(::mknod((top + "/gone").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);
  EXPECT_TRUE(image_may_have({top, base}, "/gone"));
  EXPECT_FALSE(image_may_have({top, base}, "/never"));
}

TEST(ImageMayHave, AnImageWithoutLayersHasNothing) {
  EXPECT_FALSE(image_may_have({}, "/data"));
}

}  // namespace
}  // namespace berth::engine
