// What the engine believes the kernel can limit, read from fake cgroup trees of both layouts.
#include "engine/kernel_features.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "support/temp_dir.h"

namespace berth::engine {
namespace {

void touch(const std::string& path) {
  mkdir_p(path.substr(0, path.rfind('/')), 0755);
  write_file_atomic(path, "", 0644, Durability::kCrashSafe);
}

TEST(KernelFeatures, CgroupV1ReadsEachControllersFiles) {
  test::TempDir root("kf-v1");
  touch(root / "memory/memory.limit_in_bytes");
  touch(root / "memory/memory.swappiness");
  touch(root / "cpu/cpu.shares");
  touch(root / "cpu/cpu.cfs_quota_us");
  touch(root / "pids/pids.max");
  touch(root / "blkio/blkio.throttle.read_bps_device");
  auto k = probe_kernel_features(root.path());
  EXPECT_FALSE(k.cgroup_v2);
  EXPECT_TRUE(k.memory);
  EXPECT_FALSE(k.swap_limit) << "no memory.memsw.limit_in_bytes: swap accounting is off";
  EXPECT_TRUE(k.memory_swappiness);
  EXPECT_TRUE(k.cpu_shares && k.cpu_cfs && k.pids && k.blkio_throttle);
  EXPECT_FALSE(k.cpu_realtime);
  EXPECT_FALSE(k.cpuset);
  EXPECT_FALSE(k.blkio_weight) << "no blkio.weight without BFQ";
}

TEST(KernelFeatures, CgroupV2ReadsTheControllersList) {
  test::TempDir root("kf-v2");
  write_file_atomic(root / "cgroup.controllers", "cpu io memory pids\n", 0644,
                    Durability::kCrashSafe);
  touch(root / "system.slice/memory.swap.max");
  auto k = probe_kernel_features(root.path());
  EXPECT_TRUE(k.cgroup_v2);
  EXPECT_TRUE(k.memory && k.swap_limit && k.cpu_shares && k.cpu_cfs && k.pids);
  EXPECT_TRUE(k.blkio_throttle);
  EXPECT_FALSE(k.blkio_weight) << "no io.weight in any child";
  EXPECT_FALSE(k.cpuset);
  EXPECT_FALSE(k.memory_swappiness) << "v2 has no swappiness";
  EXPECT_FALSE(k.oom_kill_disable) << "v2 cannot disable the OOM killer";
}

}  // namespace
}  // namespace berth::engine
