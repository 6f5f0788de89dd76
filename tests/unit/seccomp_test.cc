#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/reboot.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "base/fs.h"
#include "in_child.h"
#include "oci/spec.h"
#include "runtime/security.h"
#include "support/temp_dir.h"

namespace berth {
namespace {

using testing::check;
using testing::check_result;
using testing::in_child;

constexpr uint64_t kPersonalityQuery = 0xffffffff;

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::vector<oci::SeccompArg> args = {},
                         std::optional<unsigned> errno_ret = {}) {
  return {std::move(names), std::move(action), errno_ret, std::move(args)};
}

oci::Seccomp allow_all_but(std::vector<oci::SeccompSyscall> syscalls) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = std::move(syscalls);
  return p;
}

std::string build_error(const oci::Seccomp& profile) {
  try {
    runtime::SeccompFilter filter(profile);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Loads the filter in a child, then runs the checks there.
template <class Fn>
int load_and_run(const oci::Seccomp& profile, Fn&& checks) {
  runtime::SeccompFilter filter(profile);
  return in_child([&] {
    filter.load();
    return checks();
  });
}

class Seccomp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "loading a filter without no_new_privs needs root";
  }
  std::string path(const char* name) const { return dir_ / name; }

 private:
  test::TempDir dir_{"seccomp"};
};

TEST_F(Seccomp, ErrnoRetIsReturned) {
  auto profile = allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, ENOSYS)});
  std::string dir = path("d");
  EXPECT_CHILD_OK(load_and_run(profile, [&] {
    return check_result(::syscall(SYS_mkdir, dir.c_str(), 0700), ENOSYS, "mkdir") &&
           check_result(::syscall(SYS_mkdirat, AT_FDCWD, dir.c_str(), 0700), 0, "mkdirat");
  }));
}

TEST_F(Seccomp, DefaultErrnoRetAndEperm) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer runtime needs system calls this profile denies";
#endif
  // Only what the child needs to report back is allowed; getpid falls to the default.
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = EXDEV;
  profile.syscalls = {rule({"exit_group", "exit", "write"}, "SCMP_ACT_ALLOW"),
                      rule({"getppid"}, "SCMP_ACT_ERRNO")};
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    return check_result(::syscall(SYS_getpid), EXDEV, "getpid") &&
           check_result(::syscall(SYS_getppid), EPERM, "getppid");
  }));
}

// Generated programs are kept per profile: the second filter comes from the file, and a file
// that holds another profile's program is never taken for this one's.
TEST_F(Seccomp, CachedProgramsBelongToTheirProfile) {
  std::string cache = path("cache");
  auto enosys = allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, ENOSYS)});
  auto exdev = allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, EXDEV)});
  std::string dir = path("d");
  auto mkdir_fails_with = [&](const runtime::SeccompFilter& f, int err) {
    runtime::SeccompFilter copy = f;
    return in_child([&] {
      copy.load();
      return check_result(::syscall(SYS_mkdir, dir.c_str(), 0700), err, "mkdir");
    });
  };
  runtime::SeccompFilter first(enosys, cache);
  auto files = list_dir(cache);
  ASSERT_EQ(files.size(), 1u);
  std::string file = cache + "/" + files[0];
  std::string kept = read_file(file);
  runtime::SeccompFilter again(enosys, cache);
  EXPECT_CHILD_OK(mkdir_fails_with(again, ENOSYS));
  EXPECT_EQ(read_file(file), kept);

  // Another profile's program under this profile's name (as a hash collision would put it),
  // then a torn file: both are regenerated, never loaded.
  runtime::SeccompFilter other(exdev, cache);
  ASSERT_EQ(list_dir(cache).size(), 2u);
  for (auto& name : list_dir(cache))
    if (cache + "/" + name != file) write_file_atomic(file, read_file(cache + "/" + name));
  EXPECT_CHILD_OK(mkdir_fails_with(runtime::SeccompFilter(enosys, cache), ENOSYS));
  EXPECT_EQ(read_file(file), kept);
  write_file_atomic(file, kept.substr(0, kept.size() - 3));
  EXPECT_CHILD_OK(mkdir_fails_with(runtime::SeccompFilter(enosys, cache), ENOSYS));
  EXPECT_EQ(read_file(file), kept);
}

TEST_F(Seccomp, ArgumentCondition) {
  auto profile = allow_all_but(
      {rule({"personality"}, "SCMP_ACT_ERRNO", {{0, kPersonalityQuery, 0, "SCMP_CMP_NE"}})});
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    return check_result(::syscall(SYS_personality, kPersonalityQuery), 0, "query") &&
           check_result(::syscall(SYS_personality, 0), EPERM, "set");
  }));
}

TEST_F(Seccomp, ConditionsOnTwoArgumentsAreAnded) {
  auto profile = allow_all_but(
      {rule({"getpriority"}, "SCMP_ACT_ERRNO",
            {{0, PRIO_PROCESS, 0, "SCMP_CMP_EQ"}, {1, 0x7ffffff0, 0, "SCMP_CMP_GE"}})});
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    bool ok = check_result(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7ffffff1), EPERM, "both");
    // No such group: the kernel's own answer, the filter does not match.
    ok &= check_result(::syscall(SYS_getpriority, PRIO_PGRP, 0x7ffffff1), ESRCH, "one");
    ok &= check_result(::syscall(SYS_getpriority, PRIO_PROCESS, 0), 0, "neither");
    return ok;
  }));
}

TEST_F(Seccomp, ConditionsOnOneArgumentBecomeSeparateRules) {
  // libseccomp cannot AND these; like runc, either one matching applies the action.
  auto profile = allow_all_but(
      {rule({"getpriority"}, "SCMP_ACT_ERRNO",
            {{1, 0x7ffffff1, 0, "SCMP_CMP_EQ"}, {1, 0xf0, 0x70, "SCMP_CMP_MASKED_EQ"}})});
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    bool ok = check_result(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7ffffff1), EPERM, "eq");
    ok &= check_result(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7ffffe71), EPERM, "masked");
    ok &= check_result(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7ffffe01), ESRCH, "none");
    return ok;
  }));
}

TEST_F(Seccomp, UnknownSyscallNamesAreSkipped) {
  auto profile = allow_all_but(
      {rule({"no_such_syscall_in_any_kernel", "mkdir"}, "SCMP_ACT_ERRNO", {}, ENOSYS)});
  std::string dir = path("d");
  EXPECT_CHILD_OK(load_and_run(profile, [&] {
    return check_result(::syscall(SYS_mkdir, dir.c_str(), 0700), ENOSYS, "mkdir");
  }));
}

TEST_F(Seccomp, RuleWithTheDefaultActionIsSkipped) {
  auto profile = allow_all_but(
      {rule({"getpid"}, "SCMP_ACT_ALLOW"), rule({"getppid"}, "SCMP_ACT_ERRNO", {}, ENOSYS)});
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    return check_result(::syscall(SYS_getpid), 0, "getpid") &&
           check_result(::syscall(SYS_getppid), ENOSYS, "getppid");
  }));
}

TEST_F(Seccomp, KillProcess) {
  auto profile = allow_all_but({rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")});
  runtime::SeccompFilter filter(profile);
  int status = in_child([&] {
    // No core file from the SIGSYS.
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    filter.load();
    ::syscall(SYS_getppid);
    return false;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << "wait status " << status;
}

TEST_F(Seccomp, ArchitecturesAndFlags) {
  auto profile = allow_all_but({rule({"getppid"}, "SCMP_ACT_ERRNO", {}, ENOSYS)});
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                           "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  EXPECT_CHILD_OK(load_and_run(
      profile, [] { return check_result(::syscall(SYS_getppid), ENOSYS, "getppid"); }));
}

TEST(SeccompErrors, NameTheBadValue) {
  auto bad_action =
      allow_all_but({rule({"getpid"}, "SCMP_ACT_ALLOW"), rule({"mkdir"}, "SCMP_ACT_FROB")});
  EXPECT_NE(build_error(bad_action).find("syscalls[1].action: unknown action \"SCMP_ACT_FROB\""),
            std::string::npos)
      << build_error(bad_action);

  oci::Seccomp bad_default;
  bad_default.default_action = "SCMP_ACT_MAYBE";
  EXPECT_NE(build_error(bad_default).find("defaultAction: unknown action \"SCMP_ACT_MAYBE\""),
            std::string::npos)
      << build_error(bad_default);

  // Checked even on a rule that is skipped: its syscall is unknown.
  auto bad_op =
      allow_all_but({rule({"no_such_syscall"}, "SCMP_ACT_ERRNO", {{0, 1, 0, "SCMP_CMP_ROUGHLY"}})});
  EXPECT_NE(build_error(bad_op).find("unknown operator \"SCMP_CMP_ROUGHLY\""), std::string::npos)
      << build_error(bad_op);

  auto bad_index = allow_all_but({rule({"mkdir"}, "SCMP_ACT_ERRNO", {{6, 1, 0, "SCMP_CMP_EQ"}})});
  EXPECT_NE(build_error(bad_index).find("syscalls[0].args[0].index"), std::string::npos)
      << build_error(bad_index);

  auto bad_arch = allow_all_but({});
  bad_arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_NE(build_error(bad_arch).find("unknown architecture \"SCMP_ARCH_VAX\""), std::string::npos)
      << build_error(bad_arch);
  bad_arch.architectures = {"x86_64"};
  EXPECT_NE(build_error(bad_arch).find("unknown architecture \"x86_64\""), std::string::npos);

  auto bad_flag = allow_all_but({});
  bad_flag.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_NE(build_error(bad_flag).find("\"SECCOMP_FILTER_FLAG_NEW_LISTENER\""), std::string::npos)
      << build_error(bad_flag);

  auto notify = allow_all_but({rule({"mkdir"}, "SCMP_ACT_NOTIFY")});
  EXPECT_NE(build_error(notify).find("SCMP_ACT_NOTIFY needs a listenerPath"), std::string::npos)
      << build_error(notify);
}

// Docker's default profile as berthd ships it, minus the entries that depend on capabilities,
// kernel version or architecture (the engine resolves those before handing the profile to a
// runtime). A missing file fails the test: the profile is part of the tree.
oci::Seccomp docker_default_profile() {
  auto docker =
      nlohmann::json::parse(read_file(BERTH_SOURCE_DIR "/src/engine/seccomp_default.json"));
  nlohmann::json oci = {{"defaultAction", docker["defaultAction"]},
                        {"architectures", nlohmann::json::array()},
                        {"syscalls", nlohmann::json::array()}};
  if (docker.contains("defaultErrnoRet")) oci["defaultErrnoRet"] = docker["defaultErrnoRet"];
  for (auto& entry : docker["archMap"]) {
    std::string arch = entry["architecture"];
    std::string lower = arch.substr(std::string("SCMP_ARCH_").size());
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (seccomp_arch_resolve_name(lower.c_str()) != seccomp_arch_native()) continue;
    oci["architectures"].push_back(arch);
    for (auto& sub : entry["subArchitectures"]) oci["architectures"].push_back(sub);
  }
  for (auto& s : docker["syscalls"]) {
    if (s.contains("includes") || s.contains("excludes")) continue;
    nlohmann::json r = {{"names", s["names"]}, {"action", s["action"]}};
    for (const char* key : {"errnoRet", "args"})
      if (s.contains(key)) r[key] = s[key];
    oci["syscalls"].push_back(r);
  }
  auto spec = oci::parse_spec(nlohmann::json{
      {"ociVersion", "1.0.2"}, {"root", {{"path", "rootfs"}}}, {"linux", {{"seccomp", oci}}}}
                                  .dump());
  return *spec.linux->seccomp;
}

TEST_F(Seccomp, DockerDefaultProfile) {
  auto profile = docker_default_profile();
  ASSERT_FALSE(profile.architectures.empty());
  EXPECT_CHILD_OK(load_and_run(profile, [] {
    bool ok = check_result(::syscall(SYS_getpid), 0, "getpid");
    ok &= check_result(::unshare(CLONE_NEWUSER), EPERM, "unshare(CLONE_NEWUSER)");
    // A bad magic number: without the filter the kernel says EINVAL, so this reboots nothing.
    ok &= check_result(::syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_RESTART, 0), EPERM, "reboot");
    ok &= check_result(::syscall(SYS_personality, kPersonalityQuery), 0, "personality query");
    ok &= check_result(::syscall(SYS_personality, 6), EPERM, "personality(PER_BSD)");
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ok &= check_result(fd, 0, "unix socket");
    ::close(fd);
    ok &= check_result(::socket(AF_VSOCK, SOCK_STREAM, 0), EPERM, "vsock socket");
    return ok;
  }));
}

}  // namespace
}  // namespace berth
