// cgroup v2 logic against a fake cgroupfs tree: this machine's v2 mount owns no controller
// but hugetlb, so the files a v2 host would have are made by the test, as the kernel would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "runtime/cgroup_impl.h"
#include "runtime/cgroups.h"
#include "support/file.h"
#include "support/temp_dir.h"

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;

using test::slurp;

class FakeCgroupV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(root_ / "cgroup.controllers") << "cpuset cpu io memory hugetlb pids\n";
    std::ofstream(root_ / "cgroup.subtree_control") << "";
  }

  // What the kernel creates in a new v2 cgroup directory.
  void populate(const fs::path& dir) {
    for (auto f : {"cgroup.procs", "cgroup.controllers", "cgroup.subtree_control", "cgroup.freeze",
                   "cgroup.events", "memory.max", "memory.low", "memory.swap.max", "cpu.weight",
                   "cpu.max", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
                   "hugetlb.2MB.max", "memory.high"})
      std::ofstream(dir / f) << "";
  }

  test::TempDir dir_{"fake-cgroup"};
  fs::path root_ = dir_.path();
};

TEST_F(FakeCgroupV2, DetectsTheLayout) {
  // The real root: v2 exactly when the kernel shows cgroup.controllers at its top.
  EXPECT_EQ(detect_cgroup_layout("/sys/fs/cgroup") == CgroupLayout::kV2,
            fs::exists("/sys/fs/cgroup/cgroup.controllers"));
}

TEST_F(FakeCgroupV2, CreateEnablesControllersAndMakesTheDirectory) {
  auto cg = open_cgroup("/berth/c1", CgroupLayout::kV2, root_.string());
  cg->create();
  EXPECT_TRUE(fs::is_directory(root_ / "berth" / "c1"));
  // Each controller is enabled on its own; the fake file keeps the last write.
  EXPECT_EQ(slurp(root_ / "cgroup.subtree_control").substr(0, 1), "+");
  EXPECT_EQ(cg->describe(), (root_ / "berth" / "c1").string());
}

TEST_F(FakeCgroupV2, ApplyConvertsOciValues) {
  auto cg = open_cgroup("/berth/c2", CgroupLayout::kV2, root_.string());
  cg->create();
  auto dir = root_ / "berth" / "c2";
  populate(dir);
  oci::Resources r;
  r.memory.limit = 64 << 20;
  r.memory.reservation = 32 << 20;
  r.memory.swap = 96 << 20;  // memory+swap in OCI terms
  r.cpu.shares = 1024;
  r.cpu.quota = 50000;
  r.cpu.period = 100000;
  r.cpu.cpus = "0-1";
  r.cpu.mems = "0";
  r.pids_limit = 64;
  r.block_io.weight = 500;
  oci::BlockIoDevice d;
  d.major = 8;
  d.minor = 0;
  d.rate = 1048576;
  r.block_io.throttle_read_bps.push_back(d);
  r.hugepage_limits.push_back({"2MB", 4 << 21});
  r.unified["memory.high"] = "50000000";
  cg->apply(r);
  EXPECT_EQ(slurp(dir / "memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(slurp(dir / "memory.low"), std::to_string(32 << 20));
  EXPECT_EQ(slurp(dir / "memory.swap.max"), std::to_string(32 << 20));
  EXPECT_EQ(slurp(dir / "cpu.weight"), "39");  // runc's conversion of 1024 shares
  EXPECT_EQ(slurp(dir / "cpu.max"), "50000 100000");
  EXPECT_EQ(slurp(dir / "cpuset.cpus"), "0-1");
  EXPECT_EQ(slurp(dir / "pids.max"), "64");
  EXPECT_EQ(slurp(dir / "io.weight"), "default " + std::to_string(blkio_weight_to_io_weight(500)));
  EXPECT_EQ(slurp(dir / "io.max"), "8:0 rbps=1048576");
  EXPECT_EQ(slurp(dir / "hugetlb.2MB.max"), std::to_string(4 << 21));
  EXPECT_EQ(slurp(dir / "memory.high"), "50000000");
}

TEST_F(FakeCgroupV2, UnlimitedValuesAndBadInput) {
  auto cg = open_cgroup("/berth/c3", CgroupLayout::kV2, root_.string());
  cg->create();
  auto dir = root_ / "berth" / "c3";
  populate(dir);
  oci::Resources r;
  r.memory.limit = -1;
  r.memory.swap = -1;
  r.cpu.quota = -1;
  r.pids_limit = -1;
  cg->apply(r);
  EXPECT_EQ(slurp(dir / "memory.max"), "max");
  EXPECT_EQ(slurp(dir / "memory.swap.max"), "max");
  EXPECT_EQ(slurp(dir / "cpu.max"), "max") << "a quota alone keeps the period";
  EXPECT_EQ(slurp(dir / "pids.max"), "max");

  oci::Resources below;
  below.memory.limit = 100;
  below.memory.swap = 50;
  EXPECT_THROW(cg->apply(below), Error);
  oci::Resources bad_key;
  bad_key.unified["../escape"] = "1";
  EXPECT_THROW(cg->apply(bad_key), Error);
  oci::Resources missing;
  missing.unified["no.such.file"] = "1";
  try {
    cg->apply(missing);
    FAIL() << "writing a missing control file must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no.such.file"), std::string::npos) << e.what();
  }
}

TEST_F(FakeCgroupV2, FreezeProcsStatsAndDestroy) {
  auto cg = open_cgroup("/berth/c4", CgroupLayout::kV2, root_.string());
  cg->create();
  auto dir = root_ / "berth" / "c4";
  populate(dir);
  std::ofstream(dir / "cgroup.events") << "populated 1\nfrozen 1\n";
  cg->freeze(true);
  EXPECT_EQ(slurp(dir / "cgroup.freeze"), "1");
  EXPECT_TRUE(cg->frozen());
  std::ofstream(dir / "cgroup.procs") << "12\n34\n";
  EXPECT_EQ(cg->pids(), (std::vector<pid_t>{12, 34}));
  std::ofstream(dir / "cpu.stat") << "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n";
  std::ofstream(dir / "memory.current") << "4096\n";
  std::ofstream(dir / "pids.current") << "2\n";
  auto s = cg->stats();
  EXPECT_EQ(s["cpu"]["usage"]["total"], 1500000u);
  EXPECT_EQ(s["memory"]["usage"]["usage"], 4096u);
  EXPECT_EQ(s["pids"]["current"], 2u);
  // The kernel's rmdir removes the files with the directory; the fake one needs them gone.
  for (auto& e : fs::directory_iterator(dir)) fs::remove(e.path());
  cg->destroy();
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_NO_THROW(cg->destroy());
}

TEST(CgroupPath, Resolution) {
  EXPECT_EQ(resolve_cgroup_path("/docker/abc", "/x"), "/docker/abc");
  EXPECT_EQ(resolve_cgroup_path("system.slice:docker:abc", "/"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(resolve_cgroup_path("rel/c", "/user.slice"), "/user.slice/rel/c");
  EXPECT_EQ(resolve_cgroup_path("rel", "/"), "/rel");
  EXPECT_THROW(open_cgroup("/a/../../etc", CgroupLayout::kV2, "/tmp"), Error);
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

}  // namespace
}  // namespace berth::runtime
