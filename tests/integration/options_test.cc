// Less common knobs: --no-pivot, no_new_privs, oom_score_adj, user details, --preserve-fds,
// kill --all, exec -d, the JSON log and annotations.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness.h"

namespace berth::test {
namespace {

TEST(Options, NoPivotUsesMoveAndChroot) {
  Bundle b;
  b.set_args({"sh", "-c", "ls / | tr '\\n' ' '"});
  auto r = b.runtime({"run", "--no-pivot", "--bundle", b.dir(), unique_name("t")});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("bin"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("berth-it"), std::string::npos) << r.out;
}

// The host's /proc stays in the mount namespace out of the chroot's sight; while it is fully
// visible there, the kernel lets a user namespace made inside mount a proc of its own.
TEST(Options, NoPivotLeavesNoHostProcToMountProcBy) {
  Bundle b;
  b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.set_args({"sh", "-c", "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'"});
  auto r = b.runtime({"run", "--no-pivot", "--bundle", b.dir(), unique_name("t")});
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("mount: permission denied"), std::string::npos) << r.err;
}

TEST(Options, NoNewPrivsOomScoreAndUser) {
  Bundle b;
  auto& p = b.config()["process"];
  p["noNewPrivileges"] = true;
  p["oomScoreAdj"] = 123;
  p["user"] = {{"uid", 65534}, {"gid", 65534}, {"additionalGids", {10, 20}}, {"umask", 077}};
  b.config()["domainname"] = "example.test";
  auto r = b.run(unique_name("t"),
                 {"sh", "-c",
                  "grep NoNewPrivs /proc/self/status | tr -d '\\t '; cat /proc/self/oom_score_adj; "
                  "id -u; id -G; umask; cat /proc/sys/kernel/domainname"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "NoNewPrivs:1\n123\n65534\n65534 10 20\n0077\nexample.test\n");
}

TEST(Options, PreserveFdsPassesExtraDescriptors) {
  Bundle b;
  int fd = open((b.dir() + "/extra").c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  ASSERT_EQ(fd >= 0, true);
  // The runtime is started with the file on fd 3 by a shell redirection.
  b.set_args({"sh", "-c", "echo through-fd-3 >&3; ls /proc/self/fd | sort -n | tr '\\n' ' '"});
  auto r = run_program({"sh", "-c",
                        std::string(BERTH_RUNTIME_BIN) + " --root " + b.state_root() +
                            " run --preserve-fds 1 --bundle " + b.dir() + " " + unique_name("t") +
                            " 3>" + b.dir() + "/extra"});
  close(fd);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(b.dir() + "/extra"), "through-fd-3\n");
  // stdio, fd 3, and the one ls opens for /proc/self/fd: nothing of the runtime's leaked.
  EXPECT_EQ(r.out, "0 1 2 3 4 ");
}

TEST(Options, KillAllAndExecDetached) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto e = b.runtime({"exec", "-d", "--pid-file", b.dir() + "/exec.pid", id, "sleep", "1000"});
  ASSERT_EQ(e.status, 0) << e.err;
  int exec_pid = std::stoi(slurp(b.dir() + "/exec.pid"));
  EXPECT_EQ(kill(exec_pid, 0), 0);
  auto ps = nlohmann::json::parse(b.runtime({"ps", "--format", "json", id}).out);
  EXPECT_EQ(ps.size(), 2u);
  auto table = b.runtime({"ps", id});
  EXPECT_NE(table.out.find("PID"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("sleep 1000"), std::string::npos) << table.out;
  ASSERT_EQ(b.runtime({"kill", "--all", id, "KILL"}).status, 0);
  for (int i = 0;
       i < 300 && nlohmann::json::parse(b.runtime({"state", id}).out)["status"] != "stopped"; i++)
    usleep(10000);
  EXPECT_EQ(nlohmann::json::parse(b.runtime({"state", id}).out)["status"], "stopped");
  EXPECT_EQ(b.runtime({"delete", id}).status, 0);
}

TEST(Options, JsonLogAndAnnotations) {
  Bundle b;
  b.config()["annotations"] = {{"org.example.key", "value"}};
  b.set_args({"nope"});
  std::string log = b.dir() + "/log.json";
  auto r = b.runtime(
      {"--log", log, "--log-format", "json", "create", "--bundle", b.dir(), unique_name("t")});
  EXPECT_NE(r.status, 0);
  auto line = nlohmann::json::parse(slurp(log));
  EXPECT_EQ(line["level"], "error");
  EXPECT_NE(line["msg"].get<std::string>().find("executable file not found"), std::string::npos);
  EXPECT_TRUE(line.contains("time"));

  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
  auto st = nlohmann::json::parse(b.runtime({"state", id}).out);
  EXPECT_EQ(st["annotations"]["org.example.key"], "value");
  EXPECT_EQ(st["ociVersion"], "1.0.2");
}

TEST(Options, SpecAndFeatures) {
  Bundle b;
  auto again = b.runtime({"spec", "--bundle", b.dir()});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  std::filesystem::create_directories(b.dir() + "/rootless");
  ASSERT_EQ(b.runtime({"spec", "--rootless", "--bundle", b.dir() + "/rootless"}).status, 0);
  auto spec = nlohmann::json::parse(slurp(b.dir() + "/rootless/config.json"));
  EXPECT_EQ(spec["linux"]["uidMappings"].size(), 1u);
  auto f = nlohmann::json::parse(b.runtime({"features"}).out);
  EXPECT_TRUE(f["linux"]["seccomp"]["enabled"]);
  auto v = b.runtime({"--version"});
  EXPECT_NE(v.out.find("berth-runtime version"), std::string::npos);
}

}  // namespace
}  // namespace berth::test

namespace berth::test {
namespace {

TEST(Options, TimeNamespaceWithOffsets) {
  if (!std::filesystem::exists("/proc/self/ns/time")) GTEST_SKIP() << "no time namespaces";
  Bundle b;
  b.config()["linux"]["namespaces"].push_back({{"type", "time"}});
  b.config()["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400 * 365}, {"nanosecs", 0}}}};
  auto r = b.run(unique_name("t"), {"cut", "-d.", "-f1", "/proc/uptime"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GT(std::stol(r.out), 86400L * 365) << r.out;
}

}  // namespace
}  // namespace berth::test
