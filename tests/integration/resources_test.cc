// cgroup limits enforced on real containers: memory, pids, cpu; update; events --stats.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace berth::test {
namespace {

bool cgroup_dir_exists(const std::string& path) {
  for (auto c : {"memory", "pids", "cpu"})
    if (std::filesystem::exists("/sys/fs/cgroup/" + std::string(c) + path)) return true;
  return std::filesystem::exists("/sys/fs/cgroup" + path) &&
         std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
}

TEST(Resources, MemoryLimitKillsAHog) {
  Bundle b;
  b.config()["linux"]["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
  auto r =
      b.run(unique_name("t"),
            {"sh", "-c",
             "a=$(dd if=/dev/zero bs=1M count=128 2>/dev/null | tr '\\000' x); echo survived"});
  EXPECT_EQ(r.out.find("survived"), std::string::npos);
  EXPECT_NE(r.status, 0);
}

TEST(Resources, LimitsVisibleInTheContainersCgroup) {
  if (!cgroup_v1_has("memory")) GTEST_SKIP() << "checks v1 file names";
  Bundle b;
  b.config()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  b.config()["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 50000}, {"period", 100000}};
  b.config()["linux"]["resources"]["pids"] = {{"limit", 42}};
  // berth-runtime spec adds none on a v1 host (as runc); asked for, the container gets one.
  b.config()["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  auto r = b.run(unique_name("t"),
                 {"sh", "-c",
                  "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares "
                  "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max; "
                  "cat /proc/self/cgroup | grep memory"});
  ASSERT_EQ(r.status, 0) << r.err;
  // The cgroup namespace shows the container's cgroup as its root.
  EXPECT_EQ(r.out, std::to_string(64 << 20) + "\n512\n50000\n42\n4:memory:/\n");
}

TEST(Resources, PidsLimitStopsAForkBomb) {
  Bundle b;
  b.config()["linux"]["resources"]["pids"] = {{"limit", 8}};
  auto r = b.run(unique_name("t"),
                 {"sh", "-c", "for i in $(seq 40); do sleep 2 & done 2>&1; echo done"});
  EXPECT_NE((r.out + r.err).find("can't fork"), std::string::npos) << r.out << r.err;
}

TEST(Resources, CgroupIsRemovedWithTheContainer) {
  Bundle b;
  std::string id = unique_name("t");
  b.config()["linux"]["cgroupsPath"] = "/berth-test/" + id;
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  EXPECT_TRUE(cgroup_dir_exists("/berth-test/" + id));
  ASSERT_EQ(b.runtime({"delete", "-f", id}).status, 0);
  EXPECT_FALSE(cgroup_dir_exists("/berth-test/" + id));
}

TEST(Resources, UpdateAndStats) {
  if (!cgroup_v1_has("memory")) GTEST_SKIP() << "checks v1 file names";
  Bundle b;
  std::string id = unique_name("t");
  b.config()["linux"]["cgroupsPath"] = "/berth-test/" + id;
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto u =
      b.runtime({"update", "--memory", "100m", "--pids-limit", "50", "--cpu-shares", "256", id});
  ASSERT_EQ(u.status, 0) << u.err;
  auto base = "/sys/fs/cgroup/";
  EXPECT_EQ(slurp(base + std::string("memory/berth-test/") + id + "/memory.limit_in_bytes"),
            std::to_string(100 << 20) + "\n");
  EXPECT_EQ(slurp(base + std::string("pids/berth-test/") + id + "/pids.max"), "50\n");
  auto stats = b.runtime({"events", "--stats", id});
  ASSERT_EQ(stats.status, 0) << stats.err;
  auto j = nlohmann::json::parse(stats.out);
  EXPECT_EQ(j["type"], "stats");
  EXPECT_GT(j["data"]["memory"]["usage"]["usage"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["data"]["pids"]["current"], 1);
  auto bad = b.runtime({"update", "--memory", "lots", id});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("lots"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace berth::test
