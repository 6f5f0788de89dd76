// create/start/state/kill/delete/run semantics, checked from outside and inside.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace berth::test {
namespace {

nlohmann::json state_of(Bundle& b, const std::string& id) {
  auto r = b.runtime({"state", id});
  EXPECT_EQ(r.status, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(Lifecycle, RunReturnsTheExitStatus) {
  Bundle b;
  EXPECT_EQ(b.run(unique_name("t"), {"true"}).status, 0);
  EXPECT_EQ(b.run(unique_name("t"), {"sh", "-c", "exit 7"}).status, 7);
  // PID 1 of a pid namespace cannot be killed from inside it: an exec'd process can.
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  EXPECT_EQ(b.runtime({"exec", id, "sh", "-c", "kill -9 $$"}).status, 128 + 9);
}

TEST(Lifecycle, OwnPid1HostnameAndMounts) {
  Bundle b;
  b.config()["hostname"] = "inside";
  auto r = b.run(unique_name("t"), {"sh", "-c", "echo $$; hostname; cat /proc/mounts"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "1");
  EXPECT_NE(r.out.find("\ninside\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("proc /proc proc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("devpts /dev/pts devpts"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mqueue /dev/mqueue mqueue"), std::string::npos) << r.out;
  // Nothing of the host's mount table is visible.
  EXPECT_EQ(r.out.find("/tmp/berth-it"), std::string::npos) << r.out;
}

TEST(Lifecycle, OnlyTheContainersProcessesAreVisible) {
  Bundle b;
  auto r = b.run(unique_name("t"), {"sh", "-c", "ls /proc | grep -c '^[0-9]'"});
  ASSERT_EQ(r.status, 0) << r.err;
  // sh, and the grep/ls of the pipeline.
  EXPECT_LE(std::stoi(r.out), 3) << r.out;
}

TEST(Lifecycle, CreateWaitsUntilStart) {
  Bundle b;
  std::string id = unique_name("t");
  std::string marker = "/tmp/started";
  b.set_args({"sh", "-c", "touch /tmp/started; sleep 1000"});
  auto c = b.runtime({"create", "--bundle", b.dir(), "--pid-file", b.dir() + "/pid", id});
  ASSERT_EQ(c.status, 0) << c.err;
  auto st = state_of(b, id);
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["id"], id);
  EXPECT_EQ(st["bundle"], b.dir());
  EXPECT_EQ(std::to_string(st["pid"].get<int>()), slurp(b.dir() + "/pid"));
  EXPECT_FALSE(std::filesystem::exists(b.rootfs() + marker));

  auto s = b.runtime({"start", id});
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_EQ(state_of(b, id)["status"], "running");
  for (int i = 0; i < 200 && !std::filesystem::exists(b.rootfs() + marker); i++) usleep(10000);
  EXPECT_TRUE(std::filesystem::exists(b.rootfs() + marker));

  auto again = b.runtime({"start", id});
  EXPECT_NE(again.status, 0);

  auto d = b.runtime({"delete", id});
  EXPECT_NE(d.status, 0);
  EXPECT_NE(d.err.find("not stopped"), std::string::npos) << d.err;

  ASSERT_EQ(b.runtime({"kill", id, "KILL"}).status, 0);
  for (int i = 0; i < 200 && state_of(b, id)["status"] != "stopped"; i++) usleep(10000);
  EXPECT_EQ(state_of(b, id)["status"], "stopped");
  EXPECT_EQ(b.runtime({"delete", id}).status, 0);
  EXPECT_NE(b.runtime({"state", id}).status, 0);
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
}

TEST(Lifecycle, ForceDeleteKillsARunningContainer) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto st = state_of(b, id);
  EXPECT_EQ(st["status"], "running");
  int pid = st["pid"];
  ASSERT_EQ(b.runtime({"delete", "--force", id}).status, 0);
  EXPECT_NE(kill(pid, 0) == 0 &&
                slurp("/proc/" + std::to_string(pid) + "/stat").find(" Z ") == std::string::npos,
            true);
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
}

TEST(Lifecycle, ListShowsContainers) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
  auto q = b.runtime({"list", "-q"});
  EXPECT_EQ(q.out, id + "\n");
  auto j = nlohmann::json::parse(b.runtime({"list", "--format", "json"}).out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["status"], "created");
  auto t = b.runtime({"list"});
  EXPECT_NE(t.out.find("ID"), std::string::npos);
  EXPECT_NE(t.out.find(id), std::string::npos);
}

TEST(Lifecycle, DuplicateIdIsRefused) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
  auto again = b.runtime({"create", "--bundle", b.dir(), id});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(state_of(b, id)["status"], "created");
}

TEST(Lifecycle, MissingCommandIsReported) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"no-such-program"});
  auto r = b.runtime({"create", "--bundle", b.dir(), id});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("executable file not found"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
}

TEST(Lifecycle, ExecRunsInTheContainer) {
  Bundle b;
  std::string id = unique_name("t");
  b.config()["hostname"] = "exechost";
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto r = b.runtime({"exec", id, "sh", "-c", "hostname; echo $FOO; exit 4"});
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(r.out, "exechost\n\n");
  auto e = b.runtime({"exec", "-e", "FOO=bar", "--cwd", "/tmp", id, "sh", "-c", "echo $FOO; pwd"});
  EXPECT_EQ(e.out, "bar\n/tmp\n") << e.err;
  auto u = b.runtime({"exec", "-u", "65534:65534", id, "id"});
  EXPECT_NE(u.out.find("uid=65534"), std::string::npos) << u.out << u.err;
  auto ps = b.runtime({"ps", "--format", "json", id});
  EXPECT_EQ(nlohmann::json::parse(ps.out).size(), 1u) << ps.out;
  nlohmann::json proc = {{"args", {"sh", "-c", "echo from-process-file"}},
                         {"cwd", "/"},
                         {"env", {"PATH=/bin"}},
                         {"user", {{"uid", 0}, {"gid", 0}}}};
  std::ofstream(b.dir() + "/process.json") << proc.dump();
  auto p = b.runtime({"exec", "--process", b.dir() + "/process.json", id});
  EXPECT_EQ(p.out, "from-process-file\n") << p.err;
  auto missing = b.runtime({"exec", id, "nope"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
}

TEST(Lifecycle, KillBySignalName) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sh", "-c", "trap 'exit 0' USR1; while true; do sleep 0.05; done"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  EXPECT_NE(b.runtime({"kill", id, "NOSUCHSIG"}).status, 0);
  ASSERT_EQ(b.runtime({"kill", id, "SIGUSR1"}).status, 0);
  for (int i = 0; i < 300 && state_of(b, id)["status"] != "stopped"; i++) usleep(10000);
  EXPECT_EQ(state_of(b, id)["status"], "stopped");
  auto again = b.runtime({"kill", id, "KILL"});
  EXPECT_NE(again.status, 0);
}

TEST(Lifecycle, PauseAndResume) {
  if (!cgroup_v1_has("freezer") && !std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers"))
    GTEST_SKIP() << "no freezer";
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  ASSERT_EQ(b.runtime({"pause", id}).status, 0) << b.runtime({"pause", id}).err;
  EXPECT_EQ(state_of(b, id)["status"], "paused");
  ASSERT_EQ(b.runtime({"resume", id}).status, 0);
  EXPECT_EQ(state_of(b, id)["status"], "running");
  EXPECT_NE(b.runtime({"resume", id}).status, 0);
}

}  // namespace
}  // namespace berth::test
