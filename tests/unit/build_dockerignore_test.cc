// .dockerignore: Docker's pattern rules.
#include <gtest/gtest.h>

#include "build/build.h"

namespace berth::build {
namespace {

TEST(BuildDockerIgnore, PatternsAndExceptions) {
  DockerIgnore ig(
      "# comment\n"
      "*.key\n"
      "/tmp\n"
      "**/*.log\n"
      "docs\n"
      "!docs/keep.md\n"
      "./build/../out\n");
  EXPECT_TRUE(ig.excluded("a.key"));
  EXPECT_FALSE(ig.excluded("sub/a.key"));  // `*` does not cross directories
  EXPECT_TRUE(ig.excluded("tmp"));
  EXPECT_TRUE(ig.excluded("tmp/deep/file"));  // a parent directory matched
  EXPECT_TRUE(ig.excluded("x.log"));
  EXPECT_TRUE(ig.excluded("a/b/c.log"));
  EXPECT_TRUE(ig.excluded("docs/other.md"));
  EXPECT_FALSE(ig.excluded("docs/keep.md"));
  EXPECT_TRUE(ig.excluded("out/x"));
  EXPECT_FALSE(ig.excluded("Dockerfile"));
  EXPECT_TRUE(ig.has_exceptions());
  EXPECT_FALSE(DockerIgnore("a\n").has_exceptions());
  EXPECT_TRUE(DockerIgnore("").empty());
}

TEST(BuildDockerIgnore, LastMatchWins) {
  DockerIgnore ig("!a.txt\n*.txt\n");
  EXPECT_TRUE(ig.excluded("a.txt"));
  DockerIgnore again("*.txt\n!a.txt\n");
  EXPECT_FALSE(again.excluded("a.txt"));
  EXPECT_TRUE(again.excluded("b.txt"));
}

}  // namespace
}  // namespace berth::build
