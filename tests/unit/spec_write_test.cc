// The config.json writer is the parser's inverse: every field the typed spec holds survives a
// write and a parse, and what berthd writes is what a runtime (ours, runc, crun) reads.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace berth {
namespace {

using nlohmann::json;

// Every field of the typed spec set to a value that is not its default, in the writer's form.
const char* kFull = R"({
  "ociVersion": "1.0.2",
  "process": {
    "terminal": true, "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 27]},
    "args": ["sh", "-c", "true"], "env": ["PATH=/bin", "A=b"], "cwd": "/work",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
      "inheritable": ["CAP_CHOWN"], "permitted": ["CAP_KILL"], "ambient": ["CAP_NET_RAW"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}],
    "noNewPrivileges": true, "apparmorProfile": "p", "oomScoreAdj": -500, "selinuxLabel": "l"},
  "root": {"path": "/r", "readonly": true},
  "hostname": "h", "domainname": "d",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"]}],
  "hooks": {
    "prestart": [{"path": "/bin/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 3}],
    "createRuntime": [{"path": "/bin/b"}], "createContainer": [{"path": "/bin/c"}],
    "startContainer": [{"path": "/bin/d"}], "poststart": [{"path": "/bin/e"}],
    "poststop": [{"path": "/bin/f"}]},
  "annotations": {"org.example": "v"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
    "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 5}],
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
                 "uid": 0, "gid": 0}],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
      "memory": {"limit": 1048576, "reservation": 524288, "swap": 2097152, "kernel": 1,
                 "kernelTCP": 2, "swappiness": 10, "disableOOMKiller": true},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "realtimeRuntime": 950,
              "realtimePeriod": 1000, "cpus": "0-1", "mems": "0"},
      "pids": {"limit": -1},
      "blockIO": {"weight": 300, "leafWeight": 200,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 100}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
      "unified": {"memory.high": "max"}},
    "cgroupsPath": "/berth/x",
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/l.sock",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
        "args": [{"index": 0, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]},
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
    "mountLabel": "m",
    "timeOffsets": {"boottime": {"secs": 5, "nanosecs": 7}, "monotonic": {"secs": -2, "nanosecs": 0}}}
})";

TEST(SpecWrite, EveryFieldSurvivesAWriteAndAParse) {
  json original = json::parse(kFull);
  EXPECT_EQ(oci::write_spec(oci::parse_spec(kFull)), original);
}

TEST(SpecWrite, PartsAsRuntimesTakeThem) {
  auto spec = oci::parse_spec(kFull);
  json original = json::parse(kFull);
  EXPECT_EQ(oci::write_process(*spec.process), original["process"]);
  EXPECT_EQ(oci::write_resources(*spec.linux->resources), original["linux"]["resources"]);
  EXPECT_EQ(oci::write_seccomp(*spec.linux->seccomp), original["linux"]["seccomp"]);
  EXPECT_EQ(oci::parse_process(oci::write_process(*spec.process)).oom_score_adj, -500);
}

TEST(SpecWrite, DefaultsAndEmptiesAreLeftOut) {
  oci::Spec s;
  s.oci_version = "1.0.2";
  s.root.path = "rootfs";
  s.linux = oci::Linux{};
  s.linux->resources = oci::Resources{};
  EXPECT_EQ(oci::write_spec(s), json({{"ociVersion", "1.0.2"},
                                      {"root", {{"path", "rootfs"}}},
                                      {"linux", {{"resources", json::object()}}}}));
}

TEST(SpecWrite, DefaultSpecAsRuncWritesIt) {
  json j = oci::write_spec(oci::default_spec(false));
  EXPECT_EQ(j["linux"]["resources"]["devices"], json::parse(R"([{"allow":false,"access":"rwm"}])"));
  EXPECT_EQ(j["process"]["capabilities"]["ambient"].size(), 3u);
  EXPECT_FALSE(j["process"]["capabilities"].contains("inheritable"));
  EXPECT_EQ(j["process"]["rlimits"][0],
            json({{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}));
  EXPECT_EQ(j["root"], json({{"path", "rootfs"}, {"readonly", true}}));
  json rootless = oci::write_spec(oci::default_spec(true));
  EXPECT_FALSE(rootless["linux"].contains("resources"));
  for (auto& m : rootless["mounts"]) EXPECT_NE(m["destination"], "/sys/fs/cgroup");
}

}  // namespace
}  // namespace berth
