#include "oci/spec.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "runtime/internal.h"

namespace berth {
namespace {

std::string error_of(const std::string& text) {
  try {
    oci::parse_spec(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Spec, DefaultSpecParses) {
  auto spec = oci::parse_spec(oci::write_spec(oci::default_spec(false)).dump());
  ASSERT_TRUE(spec.process);
  EXPECT_EQ(spec.process->args, std::vector<std::string>{"sh"});
  EXPECT_TRUE(spec.root.readonly);
  ASSERT_TRUE(spec.linux);
  EXPECT_NE(spec.linux->find_namespace("pid"), nullptr);
  EXPECT_EQ(spec.linux->find_namespace("user"), nullptr);
  auto rootless = oci::parse_spec(oci::write_spec(oci::default_spec(true)).dump());
  EXPECT_NE(rootless.linux->find_namespace("user"), nullptr);
  EXPECT_EQ(rootless.linux->uid_mappings.size(), 1u);
}

TEST(Spec, ErrorsNameTheField) {
  // Go's decoder's words, as runc 1.1.5 says them for each of these config.json files.
  const std::pair<const char*, const char*> go_errors[] = {
      {"{not json", "invalid character 'n' looking for beginning of object key string"},
      {R"({"a" 1})", "invalid character '1' after object key"},
      {R"({"a":1 "b":2})", "invalid character '\"' after object key:value pair"},
      {R"({"a":tru})", "invalid character '}' in literal true (expecting 'e')"},
      {R"({"a":"x\q"})", "invalid character 'q' in string escape code"},
      {R"({"a":-x})", "invalid character 'x' in numeric literal"},
      {R"({"a":1.})", "invalid character '}' after decimal point in numeric literal"},
      {R"({"a":1e})", "invalid character '}' in exponent of numeric literal"},
      {R"({"a":"\u12x4"})", "invalid character 'x' in \\u hexadecimal character escape"},
      {"{\"a\":\"b\n\"}", "invalid character '\\n' in string literal"},
      {"{'a':1}", "invalid character '\\'' looking for beginning of object key string"},
      {R"({"a":[1 2]})", "invalid character '2' after array element"},
  };
  for (auto& [text, want] : go_errors) EXPECT_EQ(error_of(text), want) << text;
  // runc reads the first value and no further.
  EXPECT_EQ(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"}} }garbage)"), "");
  EXPECT_EQ(error_of(std::string(20000, '[')), "exceeded max depth");
  // runc's (Go's) words for a file cut short, and an empty one.
  EXPECT_EQ(error_of("{\"ociVersion\": "), "unexpected EOF");
  EXPECT_EQ(error_of(" \n"), "EOF");
  EXPECT_EQ(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"rel"}})"),
            "Cwd must be an absolute path");
  EXPECT_NE(error_of("{}").find("root: required"), std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2"})").find("root: required"), std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":"sh"}})")
                .find("process.args: expected an array of strings"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},
      "linux":{"namespaces":[{"type":"pid"},{"type":"bogus"}]}})")
                .find("namespace {\"bogus\" \"\"} does not exist"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},
      "mounts":[{"destination":""}]})")
                .find("mounts[0].destination: must not be empty"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},
      "process":{"args":["a"],"cwd":"/","oomScoreAdj":5000}})")
                .find("process.oomScoreAdj"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ociVersion":"1.0.2","root":{"path":"r"},
      "linux":{"resources":{"memory":{"limit":"lots"}}}})")
                .find("linux.resources.memory.limit: expected a number"),
            std::string::npos);
}

// As runc 1.1.5 runs them: no ociVersion, and a relative mount destination taken from the root.
TEST(Spec, RuncsLeniencies) {
  auto spec = oci::parse_spec(R"({"root":{"path":"r"},"mounts":[{"destination":"tmpx"}]})");
  EXPECT_EQ(spec.oci_version, "");
  EXPECT_EQ(spec.mounts.at(0).destination, "/tmpx");
}

TEST(Spec, FullLinuxSection) {
  auto spec = oci::parse_spec(R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},
    "hooks":{"prestart":[{"path":"/bin/true","timeout":3}],"poststop":[{"path":"/bin/false"}]},
    "linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":10}],
      "devices":[{"type":"c","path":"/dev/fuse","major":10,"minor":229,"fileMode":438}],
      "resources":{"memory":{"limit":1048576,"swap":2097152},"cpu":{"shares":512,"quota":50000,
        "period":100000,"cpus":"0"},"pids":{"limit":10},
        "blockIO":{"weight":300,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1000}]},
        "devices":[{"allow":false,"access":"rwm"}]},
      "sysctl":{"net.ipv4.ip_forward":"1"},
      "seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],
        "action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]},
      "rootfsPropagation":"rslave","maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"]}})");
  ASSERT_EQ(spec.hooks.prestart.size(), 1u);
  EXPECT_EQ(spec.hooks.prestart[0].timeout, 3);
  auto& l = *spec.linux;
  EXPECT_EQ(l.uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.resources->memory.limit, 1048576);
  EXPECT_EQ(l.resources->cpu.quota, 50000);
  EXPECT_EQ(l.resources->pids_limit, 10);
  EXPECT_EQ(l.resources->block_io.throttle_read_bps[0].rate, 1000u);
  EXPECT_FALSE(l.resources->devices[0].allow);
  EXPECT_EQ(l.seccomp->syscalls[0].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
}

TEST(MountOptions, FlagsPropagationAndData) {
  auto o = runtime::parse_mount_options(
      {"nosuid", "ro", "rbind", "rslave", "mode=755", "size=64k", "rw"});
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.data, "mode=755,size=64k");
  EXPECT_EQ(o.propagation.size(), 1u);
  EXPECT_FALSE(o.flags & MS_RDONLY);
  EXPECT_TRUE(o.flags & MS_NOSUID);
}

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(runtime::parse_signal("KILL"), 9);
  EXPECT_EQ(runtime::parse_signal("SIGTERM"), 15);
  EXPECT_EQ(runtime::parse_signal("sigusr1"), 10);
  EXPECT_EQ(runtime::parse_signal("9"), 9);
  EXPECT_THROW(runtime::parse_signal("NOPE"), Error);
  EXPECT_THROW(runtime::parse_signal("0"), Error);
}

TEST(ContainerId, Validation) {
  EXPECT_NO_THROW(runtime::check_container_id("abc-1_2.3+x"));
  EXPECT_THROW(runtime::check_container_id("../etc"), Error);
  EXPECT_THROW(runtime::check_container_id(""), Error);
  EXPECT_THROW(runtime::check_container_id(".."), Error);
}

}  // namespace
}  // namespace berth
