// Docker's seccomp profiles turned into a container's linux.seccomp: rules chosen by the
// container's capabilities, the host's architecture and kernel; --security-opt; the builtin
// profile compiled and loaded.
#include "engine/seccomp_profile.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "base/error.h"
#include "engine/security_opts.h"
#include "engine/spec_builder.h"
#include "in_child.h"
#include "runtime/security.h"

namespace berth {
namespace {

using engine::SeccompHost;
using engine::SeccompProfile;
using nlohmann::json;

const SeccompHost kAmd64{"amd64", "SCMP_ARCH_X86_64", {6, 1}};
const SeccompHost kArm64{"arm64", "SCMP_ARCH_AARCH64", {6, 1}};

std::vector<std::string> default_caps() {
  return engine::container_capabilities(json::object());
}

std::vector<std::string> caps_with(const std::string& cap) {
  return engine::container_capabilities({{"CapAdd", {cap}}});
}

// The rules that name `syscall`.
std::vector<oci::SeccompSyscall> rules_for(const oci::Seccomp& s, const std::string& syscall) {
  std::vector<oci::SeccompSyscall> out;
  for (auto& r : s.syscalls)
    if (std::find(r.names.begin(), r.names.end(), syscall) != r.names.end()) out.push_back(r);
  return out;
}

bool allows(const oci::Seccomp& s, const std::string& syscall) {
  auto rules = rules_for(s, syscall);
  return std::any_of(rules.begin(), rules.end(), [](const oci::SeccompSyscall& r) {
    return r.action == "SCMP_ACT_ALLOW" && r.args.empty();
  });
}

std::string decode_error(const std::string& text) {
  try {
    SeccompProfile::parse(text);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(SeccompProfile, BuiltinWithDockersDefaultCapabilities) {
  auto s = SeccompProfile::builtin().for_container(default_caps(), kAmd64);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s->default_errno_ret, 1u);
  EXPECT_EQ(s->architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(allows(*s, "read"));
  EXPECT_TRUE(allows(*s, "chroot"));            // CAP_SYS_CHROOT is a default capability
  EXPECT_TRUE(allows(*s, "arch_prctl"));        // amd64 only
  EXPECT_TRUE(allows(*s, "process_vm_readv"));  // minKernel 4.8
  EXPECT_FALSE(allows(*s, "arm_fadvise64_64"));
  EXPECT_TRUE(rules_for(*s, "unshare").empty());
  EXPECT_TRUE(rules_for(*s, "mount").empty());
  EXPECT_TRUE(rules_for(*s, "reboot").empty());
  // clone only without namespace flags; clone3 fails with ENOSYS so libc falls back to clone.
  auto clone = rules_for(*s, "clone");
  ASSERT_EQ(clone.size(), 1u);
  ASSERT_EQ(clone[0].args.size(), 1u);
  EXPECT_EQ(clone[0].args[0].index, 0u);
  EXPECT_EQ(clone[0].args[0].op, "SCMP_CMP_MASKED_EQ");
  auto clone3 = rules_for(*s, "clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0].action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3[0].errno_ret, 38u);
}

TEST(SeccompProfile, CapSysAdminAllowsMountUnshareAndAnyClone) {
  auto s = SeccompProfile::builtin().for_container(caps_with("SYS_ADMIN"), kAmd64);
  ASSERT_TRUE(s);
  EXPECT_TRUE(allows(*s, "mount"));
  EXPECT_TRUE(allows(*s, "unshare"));
  EXPECT_TRUE(allows(*s, "setns"));
  EXPECT_TRUE(allows(*s, "clone"));
  EXPECT_TRUE(allows(*s, "clone3"));
  // The rules that exclude CAP_SYS_ADMIN are gone.
  for (auto& r : rules_for(*s, "clone")) EXPECT_TRUE(r.args.empty());
  for (auto& r : rules_for(*s, "clone3")) EXPECT_EQ(r.action, "SCMP_ACT_ALLOW");
  EXPECT_FALSE(allows(*s, "reboot"));  // that one needs CAP_SYS_BOOT
  EXPECT_TRUE(allows(
      *engine::SeccompProfile::builtin().for_container(caps_with("SYS_BOOT"), kAmd64), "reboot"));
}

TEST(SeccompProfile, DroppedCapabilityDropsItsRules) {
  auto caps = engine::container_capabilities({{"CapDrop", {"SYS_CHROOT"}}});
  auto s = SeccompProfile::builtin().for_container(caps, kAmd64);
  ASSERT_TRUE(s);
  EXPECT_TRUE(rules_for(*s, "chroot").empty());
}

TEST(SeccompProfile, ArchitecturesAndArchRulesFollowTheHost) {
  auto s = SeccompProfile::builtin().for_container(default_caps(), kArm64);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_TRUE(allows(*s, "arm_fadvise64_64"));
  EXPECT_FALSE(allows(*s, "arch_prctl"));
  // An architecture the profile does not map: no architectures, so libseccomp's native one.
  auto other = SeccompProfile::builtin().for_container(default_caps(), {"", "", {6, 1}});
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->architectures.empty());
}

TEST(SeccompProfile, MinKernel) {
  auto old = SeccompProfile::builtin().for_container(default_caps(), {"amd64", "", {4, 4}});
  ASSERT_TRUE(old);
  EXPECT_TRUE(rules_for(*old, "process_vm_readv").empty());
  auto p = SeccompProfile::parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["a"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "5.10"}},
      {"names": ["b"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5.10"}}]})");
  auto on_5_4 = p.for_container({}, {"amd64", "", {5, 4}});
  auto on_5_10 = p.for_container({}, {"amd64", "", {5, 10}});
  EXPECT_EQ(on_5_4->syscalls.size(), 1u);
  EXPECT_EQ(on_5_4->syscalls[0].names[0], "a");
  EXPECT_EQ(on_5_10->syscalls.size(), 1u);
  EXPECT_EQ(on_5_10->syscalls[0].names[0], "b");
}

TEST(SeccompProfile, CustomProfileInMobysFormat) {
  auto p = SeccompProfile::parse(R"({
      "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "syscalls": [
        {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "old form"},
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_FOWNER"]}},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["arm64"]},
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]})");
  auto s = p.for_container({"CAP_FOWNER"}, kAmd64);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
  EXPECT_EQ(s->flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  ASSERT_EQ(s->syscalls.size(), 1u);
  EXPECT_EQ(s->syscalls[0].names, std::vector<std::string>{"mkdir"});
  EXPECT_EQ(s->syscalls[0].errno_ret, 13u);
  auto arm = p.for_container({}, kArm64);
  ASSERT_EQ(arm->syscalls.size(), 3u);
  EXPECT_EQ(arm->syscalls[2].args[0].value, 8u);
  // As config.json has it, and as the runtime reads it back.
  json j = oci::write_seccomp(*arm);
  EXPECT_EQ(j["syscalls"][2]["args"][0],
            json({{"index", 0}, {"value", 8}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}));
  EXPECT_EQ(j["syscalls"][0]["errnoRet"], 13);
  runtime::SeccompFilter compiled(*arm);
}

TEST(SeccompProfile, EmptyProfileMeansNoFilter) {
  EXPECT_FALSE(SeccompProfile::parse("{}").for_container({}, kAmd64));
}

TEST(SeccompProfile, BadProfiles) {
  EXPECT_EQ(decode_error("{\"defaultAction\": "),
            "Decoding seccomp profile failed: (top level): not valid JSON");
  EXPECT_EQ(decode_error("[]"), "Decoding seccomp profile failed: (top level): expected an object");
  EXPECT_EQ(decode_error(R"({"defaultAction": 1})"),
            "Decoding seccomp profile failed: defaultAction: expected a string");
  EXPECT_EQ(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}})"),
            "Decoding seccomp profile failed: syscalls: expected a list");
  EXPECT_EQ(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO",
                                           "args": [{"index": -1, "op": "SCMP_CMP_EQ"}]}]})"),
            "Decoding seccomp profile failed: syscalls[0].args[0].index: expected a "
            "non-negative integer of at most 4294967295");
  EXPECT_EQ(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"names": ["a"], "name": "b", "action": "x"}]})"),
            "Decoding seccomp profile failed: syscalls[0].: both 'name' and 'names' are "
            "specified, use either 'name' or 'names'");
  EXPECT_EQ(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"]}]})"),
            "Decoding seccomp profile failed: syscalls[0].action: required");
  EXPECT_EQ(decode_error(R"({"syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO"}]})"),
            "Decoding seccomp profile failed: defaultAction: required");
  EXPECT_EQ(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"],
                             "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "4"}}]})"),
            "Decoding seccomp profile failed: syscalls[0].includes.minKernel: invalid kernel "
            "version \"4\", expected \"<kernel>.<major>\"");
  EXPECT_NE(decode_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
                             "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})"),
            "");
}

TEST(SecurityOpts, Parsing) {
  auto opts = [](std::vector<std::string> o) {
    return engine::parse_security_opts({{"SecurityOpt", o}});
  };
  EXPECT_FALSE(engine::parse_security_opts(json::object()).no_new_privileges);
  EXPECT_TRUE(opts({"no-new-privileges"}).no_new_privileges);
  EXPECT_TRUE(opts({"no-new-privileges=true"}).no_new_privileges);
  EXPECT_FALSE(opts({"no-new-privileges:false"}).no_new_privileges);
  EXPECT_TRUE(opts({"writable-cgroups=1"}).writable_cgroups);
  EXPECT_EQ(opts({"seccomp=unconfined", "label=disable", "apparmor=unconfined"}).seccomp,
            "unconfined");
  EXPECT_EQ(opts({"seccomp={\"a\":1}"}).seccomp, "{\"a\":1}");
  auto error = [&](std::string o) {
    try {
      opts({o});
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("bogus"), "invalid --security-opt 1: \"bogus\"");
  EXPECT_EQ(error("bogus=1"), "invalid --security-opt 2: \"bogus=1\"");
  EXPECT_EQ(error("no-new-privileges=maybe"),
            "invalid --security-opt 2: \"no-new-privileges=maybe\"");
}

TEST(SecurityOpts, WhichFilter) {
  engine::SecurityOptions o;
  auto caps = default_caps();
  auto builtin = engine::container_seccomp(o, false, caps);
  ASSERT_TRUE(builtin);
  EXPECT_EQ(builtin->default_action, "SCMP_ACT_ERRNO");
  EXPECT_FALSE(engine::container_seccomp(o, true, caps)) << "--privileged: no filter";
  o.seccomp = "builtin";
  EXPECT_TRUE(engine::container_seccomp(o, false, caps));
  o.seccomp = "unconfined";
  EXPECT_FALSE(engine::container_seccomp(o, false, caps));
  o.seccomp = R"({"defaultAction": "SCMP_ACT_LOG"})";
  EXPECT_EQ(engine::container_seccomp(o, false, caps)->default_action, "SCMP_ACT_LOG");
}

TEST(SecurityOpts, CheckedAtCreate) {
  auto check = [](std::string profile, bool privileged = false) {
    json hc = {{"SecurityOpt", {"seccomp=" + profile}}, {"Privileged", privileged}};
    try {
      engine::check_security_opts(hc, engine::container_capabilities(hc));
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(check("unconfined"), "");
  EXPECT_EQ(check(R"({"defaultAction": "SCMP_ACT_ALLOW"})"), "");
  EXPECT_EQ(check("{"), "Decoding seccomp profile failed: (top level): not valid JSON");
  EXPECT_EQ(check(R"({"defaultAction": "SCMP_ACT_NOPE"})"),
            "invalid seccomp profile: invalid config: linux.seccomp.defaultAction: unknown "
            "action \"SCMP_ACT_NOPE\"");
  // --privileged runs without a filter, so the profile is not read at all, as with dockerd.
  EXPECT_EQ(check(R"({"defaultAction": "SCMP_ACT_NOPE"})", true), "");
}

// The builtin profile compiles and, loaded, refuses what Docker's refuses.
TEST(SeccompProfile, BuiltinLoaded) {
  auto s = SeccompProfile::builtin().for_container(default_caps());
  ASSERT_TRUE(s);
  runtime::SeccompFilter filter(*s);
  int status = testing::in_child([&] {
    filter.load();
    return testing::check_result(::unshare(CLONE_NEWUSER), EPERM, "unshare(CLONE_NEWUSER)") &&
           testing::check_result(::getpid(), 0, "getpid");
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace berth
