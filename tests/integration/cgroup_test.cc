// cgroups the container finds already there: frozen, busy, or with empty cpusets; and the
// order of dependent limit writes on update.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace berth::test {
namespace {

namespace fs = std::filesystem;

bool unified() {
  return fs::exists("/sys/fs/cgroup/cgroup.controllers");
}

// A cgroup made by the test at /<name> in every hierarchy, removed (thawed, emptied) at
// the end even when the test fails.
class TestCgroup {
 public:
  TestCgroup() : name_(unique_name("berth-it-cg")) {}
  ~TestCgroup() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (auto& dir : dirs()) {
      write(dir, unified() ? "cgroup.freeze" : "freezer.state", unified() ? "0" : "THAWED");
      // Deepest first.
      std::vector<fs::path> all;
      if (fs::exists(dir))
        for (auto& e : fs::recursive_directory_iterator(dir))
          if (e.is_directory()) all.push_back(e.path());
      for (auto it = all.rbegin(); it != all.rend(); ++it) ::rmdir(it->c_str());
      ::rmdir(dir.c_str());
    }
  }
  const std::string& path() const { return name_; }
  std::vector<std::string> dirs() const {
    if (unified()) return {"/sys/fs/cgroup/" + name_};
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator("/sys/fs/cgroup"))
      if (fs::exists(e.path() / "cgroup.procs") && !fs::is_symlink(e.path()))
        out.push_back(e.path().string() + "/" + name_);
    return out;
  }
  std::string dir(const std::string& controller) const {
    return unified() ? "/sys/fs/cgroup/" + name_ : "/sys/fs/cgroup/" + controller + "/" + name_;
  }
  // v1's cpuset starts empty, and nothing can join it then: unless asked to leave it so,
  // it gets the root's cpus and mems.
  void make(bool fill_cpuset = true) {
    for (auto& d : dirs()) fs::create_directories(d);
    if (unified() || !fill_cpuset || !fs::exists(dir("cpuset"))) return;
    for (auto f : {"cpuset.cpus", "cpuset.mems"}) write(dir("cpuset"), f, slurp_line(f));
  }
  static std::string slurp_line(const std::string& file) {
    std::string line;
    std::getline(std::ifstream("/sys/fs/cgroup/cpuset/" + file), line);
    return line;
  }
  static void write(const std::string& dir, const std::string& file, const std::string& value) {
    std::ofstream(dir + "/" + file) << value;
  }
  // A sleeping process of the test's own, moved into the cgroup everywhere.
  void add_sleeper() {
    pid_ = fork();
    if (pid_ == 0) {
      execlp("sleep", "sleep", "1000", nullptr);
      _exit(127);
    }
    for (auto& d : dirs()) write(d, "cgroup.procs", std::to_string(pid_));
  }

 private:
  std::string name_;
  pid_t pid_ = -1;
};

TEST(Cgroup, AFrozenCgroupIsRefusedNotJoined) {
  TestCgroup cg;
  cg.make();
  if (unified())
    TestCgroup::write(cg.dir(""), "cgroup.freeze", "1");
  else
    TestCgroup::write(cg.dir("freezer"), "freezer.state", "FROZEN");
  Bundle b;
  b.config()["linux"]["cgroupsPath"] = "/" + cg.path();
  b.set_args({"true"});
  std::string id = unique_name("t");
  // A process that joins a frozen cgroup stops there: without the check, run hangs.
  auto r = run_program({"timeout", "20", BERTH_RUNTIME_BIN, "--root", b.state_root(), "run",
                        "--bundle", b.dir(), id});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("container's cgroup unexpectedly frozen"), std::string::npos) << r.err;
  run_program({BERTH_RUNTIME_BIN, "--root", b.state_root(), "delete", "-f", id});
}

TEST(Cgroup, ABusyCgroupIsWarnedAbout) {
  TestCgroup cg;
  cg.make();
  cg.add_sleeper();
  Bundle b;
  b.config()["linux"]["cgroupsPath"] = "/" + cg.path();
  b.set_args({"true"});
  auto r = b.runtime({"create", "--bundle", b.dir(), unique_name("t")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("container's cgroup is not empty: 1 process(es) found"), std::string::npos)
      << r.err;
}

// A cgroup made by someone else with its v1 cpuset left empty, and a level below it to
// create: both are filled from their parent before the container joins.
TEST(Cgroup, EmptyCpusetParentsAreFilledBeforeJoining) {
  if (unified() || !cgroup_v1_has("cpuset")) GTEST_SKIP() << "v1 cpuset only";
  TestCgroup cg;
  cg.make(false);
  Bundle b;
  b.config()["linux"]["cgroupsPath"] = "/" + cg.path() + "/ctr";
  auto r = b.run(unique_name("t"), {"cat", "/sys/fs/cgroup/cpuset/cpuset.cpus"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, TestCgroup::slurp_line("cpuset.cpus") + "\n");
}

// update --memory -1 after memory and swap limits: memsw must be lifted before memory.
TEST(Cgroup, UpdateMemoryUnlimitedAfterSwapLimit) {
  if (unified() || !fs::exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
    GTEST_SKIP() << "v1 swap accounting only";
  Bundle b;
  b.config()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}, {"swap", 128 << 20}};
  b.set_args({"sleep", "1000"});
  std::string id = unique_name("t");
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto r = b.runtime({"update", "--memory", "-1", id});
  EXPECT_EQ(r.status, 0) << r.err;
  auto limits = b.runtime({"exec", id, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                           "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"});
  EXPECT_EQ(limits.out, "9223372036854771712\n9223372036854771712\n");
}

}  // namespace
}  // namespace berth::test
