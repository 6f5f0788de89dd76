// runc's command line as its callers drive it: flag spellings, argument shapes, output
// formats and exit statuses.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include <filesystem>

#include "harness.h"

namespace berth::test {
namespace {

bool unified_host() {
  struct statfs st;
  return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

TEST(RuncCli, SpecAddsACgroupNamespaceOnlyOnAUnifiedHost) {
  Bundle b;
  std::filesystem::create_directories(b.dir() + "/fresh");
  ASSERT_EQ(b.runtime({"spec", "--bundle", b.dir() + "/fresh"}).status, 0);
  auto spec = nlohmann::json::parse(slurp(b.dir() + "/fresh/config.json"));
  bool cgroupns = false;
  for (auto& ns : spec["linux"]["namespaces"]) cgroupns |= ns["type"] == "cgroup";
  EXPECT_EQ(cgroupns, unified_host());
}

}  // namespace
}  // namespace berth::test
