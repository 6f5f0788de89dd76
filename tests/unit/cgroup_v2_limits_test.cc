// Every limit flag of docker run / docker update on cgroup v2, end to end: the engine's
// linux.resources (as berthd writes it into config.json) read back by the runtime and applied
// to a fake unified cgroup, the value checked in the control file a v2 kernel would have.
// This machine's v2 mount owns only hugetlb, so the tree is made by the test.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "engine/kernel_features.h"
#include "engine/spec_parts.h"
#include "oci/spec.h"
#include "runtime/cgroup_impl.h"
#include "runtime/cgroups.h"
#include "support/file.h"
#include "support/temp_dir.h"

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;

using test::slurp;

// A block device of this machine, for the per-device flags (the engine stats the path).
std::string some_block_device() {
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/dev", ec))
    if (e.is_block_file(ec)) return e.path().string();
  return "";
}

class FakeCgroupV2Limits : public ::testing::Test {
 protected:
  void SetUp() override { make_tree("cpuset cpu io memory hugetlb pids"); }

  // A root listing `controllers`, and a container cgroup with the files those controllers
  // give (the probe looks for memory.swap.max and io.weight in a child of the root).
  void make_tree(const std::string& controllers, bool bfq = false) {
    std::ofstream(root_ / "cgroup.controllers") << controllers << "\n";
    std::ofstream(root_ / "cgroup.subtree_control") << "";
    fs::create_directories(dir_);
    for (auto f : {"cgroup.procs", "cgroup.controllers", "cgroup.subtree_control"})
      std::ofstream(dir_ / f) << "";
    auto has = [&](const std::string& c) {
      return (" " + controllers + " ").find(" " + c + " ") != std::string::npos;
    };
    if (has("memory"))
      for (auto f : {"memory.max", "memory.low", "memory.high", "memory.swap.max"})
        std::ofstream(dir_ / f) << "max\n";
    if (has("cpu")) {
      std::ofstream(dir_ / "cpu.weight") << "100\n";
      std::ofstream(dir_ / "cpu.max") << "max 100000\n";
    }
    if (has("cpuset"))
      for (auto f : {"cpuset.cpus", "cpuset.mems"}) std::ofstream(dir_ / f) << "";
    if (has("io")) {
      std::ofstream(dir_ / "io.weight") << "default 100\n";
      std::ofstream(dir_ / "io.max") << "";
      if (bfq) std::ofstream(dir_ / "io.bfq.weight") << "default 100\n";
    }
    if (has("pids")) std::ofstream(dir_ / "pids.max") << "max\n";
    // The probe finds the files a v2 root lacks in any child of it.
    fs::create_directories(root_ / "init.scope");
    for (auto f : {"memory.swap.max", "io.weight"})
      if (fs::exists(dir_ / f)) std::ofstream(root_ / "init.scope" / f) << "";
  }

  // berthd's spec for `r` on this tree, its warnings, and the runtime's writes.
  nlohmann::json run(const engine::Resources& r) {
    auto k = engine::probe_kernel_features(root_.string());
    warnings_ = engine::resource_warnings(r, k);
    auto spec = oci::write_resources(engine::container_resources(r, k));
    open_cgroup("/berth/c", CgroupLayout::kV2, root_.string())->apply(oci::parse_resources(spec));
    return spec;
  }
  std::string file(const std::string& name) { return slurp(dir_ / name); }

  test::TempDir tmp_{"fake-cgroup-v2-limits"};
  fs::path root_ = tmp_.path();
  fs::path dir_ = root_ / "berth" / "c";
  std::vector<std::string> warnings_;
};

TEST_F(FakeCgroupV2Limits, MemoryFlags) {
  engine::Resources r;
  r.memory = 64 << 20;  // -m 64m: Docker's default swap is as much again
  run(r);
  EXPECT_EQ(file("memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(file("memory.swap.max"), std::to_string(64 << 20));

  r.memory_swap = 96 << 20;  // --memory-swap is memory+swap; v2's file is swap alone
  r.memory_reservation = 32 << 20;
  run(r);
  EXPECT_EQ(file("memory.swap.max"), std::to_string(32 << 20));
  EXPECT_EQ(file("memory.low"), std::to_string(32 << 20));

  r.memory_swap = r.memory;  // equal: no swap at all
  run(r);
  EXPECT_EQ(file("memory.swap.max"), "0");

  r.memory_swap = -1;  // unlimited swap
  run(r);
  EXPECT_EQ(file("memory.swap.max"), "max");
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
}

TEST_F(FakeCgroupV2Limits, SwappinessAndOomKillDisableAreWarnedAndLeftOut) {
  // v2 has neither knob: dockerd warns and drops them, and so does berthd.
  engine::Resources r;
  r.memory = 64 << 20;
  r.memory_swappiness = 10;
  r.oom_kill_disable = true;
  auto spec = run(r);
  EXPECT_FALSE(spec["memory"].contains("swappiness"));
  EXPECT_FALSE(spec["memory"].contains("disableOOMKiller"));
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_NE(warnings_[0].find("memory swappiness"), std::string::npos) << warnings_[0];
  EXPECT_EQ(warnings_[1], "Your kernel does not support OomKillDisable. OomKillDisable discarded.");

  // Given to the runtime anyway (another engine's spec): swappiness is passed over as runc
  // does on v2; disabling the OOM killer cannot be done and is refused.
  auto cg = open_cgroup("/berth/c", CgroupLayout::kV2, root_.string());
  oci::Resources swappy;
  swappy.memory.swappiness = 10;
  EXPECT_NO_THROW(cg->apply(swappy));
  oci::Resources no_oom;
  no_oom.memory.disable_oom_killer = true;
  EXPECT_THROW(cg->apply(no_oom), Error);
}

TEST_F(FakeCgroupV2Limits, CpuFlags) {
  engine::Resources r;
  for (auto [shares, weight] : std::vector<std::pair<int64_t, std::string>>{
           {2, "1"}, {512, "20"}, {1024, "39"}, {262144, "10000"}}) {
    r.cpu_shares = shares;  // -c: runc's 1 + ((shares-2)*9999)/262142
    run(r);
    EXPECT_EQ(file("cpu.weight"), weight) << shares;
  }

  engine::Resources cpus;
  cpus.nano_cpus = 1'500'000'000;  // --cpus 1.5
  run(cpus);
  EXPECT_EQ(file("cpu.max"), "150000 100000");

  engine::Resources cfs;
  cfs.cpu_period = 50000;
  cfs.cpu_quota = 25000;
  run(cfs);
  EXPECT_EQ(file("cpu.max"), "25000 50000");

  // A quota alone keeps the cgroup's period (the kernel reads "QUOTA" so); -1 lifts it.
  engine::Resources quota;
  quota.cpu_quota = 20000;
  run(quota);
  EXPECT_EQ(file("cpu.max"), "20000");
  quota.cpu_quota = -1;
  run(quota);
  EXPECT_EQ(file("cpu.max"), "max");
  engine::Resources period;
  period.cpu_period = 20000;
  run(period);
  EXPECT_EQ(file("cpu.max"), "max 20000");

  engine::Resources cpuset;
  cpuset.cpuset_cpus = "0-1,3";
  cpuset.cpuset_mems = "0";
  run(cpuset);
  EXPECT_EQ(file("cpuset.cpus"), "0-1,3");
  EXPECT_EQ(file("cpuset.mems"), "0");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(FakeCgroupV2Limits, PidsLimit) {
  engine::Resources r;
  r.pids_limit = 100;
  run(r);
  EXPECT_EQ(file("pids.max"), "100");
  for (int64_t unlimited : {0, -1}) {
    r.pids_limit = unlimited;
    run(r);
    EXPECT_EQ(file("pids.max"), "max") << unlimited;
  }
}

TEST_F(FakeCgroupV2Limits, BlkioWeightOnIoWeight) {
  engine::Resources r;
  r.blkio_weight = 500;
  run(r);
  // runc's 1 + (weight-10)*9999/990
  EXPECT_EQ(file("io.weight"), "default 4950");
  auto dev = some_block_device();
  ASSERT_FALSE(dev.empty());
  struct stat st {};
  ASSERT_EQ(::stat(dev.c_str(), &st), 0);
  auto mm = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  engine::Resources wd;
  wd.blkio_weight_device.push_back({dev, 10});
  run(wd);
  EXPECT_EQ(file("io.weight"), mm + " 1");
}

TEST_F(FakeCgroupV2Limits, BlkioWeightPrefersBfq) {
  make_tree("cpuset cpu io memory hugetlb pids", true);
  engine::Resources r;
  r.blkio_weight = 500;
  run(r);
  EXPECT_EQ(file("io.bfq.weight"), "default 500") << "BFQ takes blkio's range as it is";
  EXPECT_EQ(file("io.weight"), "default 100\n") << "left alone";
}

TEST_F(FakeCgroupV2Limits, DeviceThrottles) {
  auto dev = some_block_device();
  ASSERT_FALSE(dev.empty());
  struct stat st {};
  ASSERT_EQ(::stat(dev.c_str(), &st), 0);
  auto mm = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  // The kernel merges each key into the device's line; the fake file keeps the last write,
  // so each flag is applied alone.
  struct Case {
    std::vector<engine::ThrottleDevice> engine::Resources::*list;
    std::string key;
  };
  for (auto [list, key] :
       {Case{&engine::Resources::read_bps, "rbps"}, Case{&engine::Resources::write_bps, "wbps"},
        Case{&engine::Resources::read_iops, "riops"},
        Case{&engine::Resources::write_iops, "wiops"}}) {
    engine::Resources r;
    (r.*list).push_back({dev, 1048576});
    run(r);
    EXPECT_EQ(file("io.max"), mm + " " + key + "=1048576");
  }
}

TEST_F(FakeCgroupV2Limits, UpdateWritesThroughTheSamePath) {
  // docker update merges into the container's resources and sends them whole (manager.cc);
  // the runtime's update is the same apply on the running container's cgroup.
  engine::Resources r;
  r.memory = 64 << 20;
  r.cpu_period = 50000;
  r.cpu_quota = 25000;
  r.pids_limit = 10;
  run(r);
  r.memory = 128 << 20;
  r.memory_swap = 256 << 20;
  r.cpu_quota = 40000;
  r.pids_limit = -1;
  run(r);
  EXPECT_EQ(file("memory.max"), std::to_string(128 << 20));
  EXPECT_EQ(file("memory.swap.max"), std::to_string(128 << 20));
  EXPECT_EQ(file("cpu.max"), "40000 50000");
  EXPECT_EQ(file("pids.max"), "max");
}

TEST_F(FakeCgroupV2Limits, AMissingControllerIsWarnedOrNamed) {
  // No io, no pids in cgroup.controllers: berthd warns with dockerd's words and leaves the
  // limits out of the spec.
  fs::remove_all(root_ / "berth");
  fs::remove_all(root_ / "init.scope");
  make_tree("cpuset cpu memory");
  engine::Resources r;
  r.blkio_weight = 500;
  r.pids_limit = 10;
  auto spec = run(r);
  EXPECT_FALSE(spec.contains("blockIO"));
  EXPECT_FALSE(spec.contains("pids"));
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_NE(warnings_[0].find("Block I/O weight"), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[1].find("PIDs limit"), std::string::npos) << warnings_[1];

  // A spec that asks anyway fails in the runtime, naming the control file it lacks.
  oci::Resources pids;
  pids.pids_limit = 10;
  try {
    open_cgroup("/berth/c", CgroupLayout::kV2, root_.string())->apply(pids);
    FAIL() << "pids.max is missing";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pids.max"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace berth::runtime
