// Every property the Engine API spec gives Config, HostConfig and NetworkingConfig is in
// berthd's field table (applied, refused or warned), and the decoder keeps the table's word.
#include "api/container_fields.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "api/container_decode.h"
#include "api/http.h"
#include "base/error.h"

namespace berth::api {
namespace {

using nlohmann::json;

// The properties of a definition, following allOf and $ref as the spec composes them.
void collect(const YAML::Node& defs, const std::string& name, std::set<std::string>& out) {
  auto def = defs[name];
  ASSERT_TRUE(def.IsDefined()) << name;
  auto take = [&](const YAML::Node& n) {
    if (n["properties"])
      for (auto it = n["properties"].begin(); it != n["properties"].end(); ++it)
        out.insert(it->first.as<std::string>());
    if (n["$ref"]) {
      auto ref = n["$ref"].as<std::string>();
      collect(defs, ref.substr(ref.rfind('/') + 1), out);
    }
  };
  take(def);
  if (def["allOf"])
    for (auto part : def["allOf"]) take(part);
}

TEST(ContainerFields, EveryFieldOfTheSpecHasAPolicy) {
  auto spec =
      YAML::LoadFile(std::string(BERTH_SOURCE_DIR) + "/tests/data/docker-engine-api-v1.55.yaml");
  auto defs = spec["definitions"];
  for (auto [section, def] :
       std::vector<std::pair<std::string, std::string>>{{"Config", "ContainerConfig"},
                                                        {"HostConfig", "HostConfig"},
                                                        {"NetworkingConfig", "NetworkingConfig"}}) {
    std::set<std::string> names;
    collect(defs, def, names);
    ASSERT_GT(names.size(), 0u) << def;
    for (auto& n : names) {
      int found = 0;
      for (auto& r : container_field_rules())
        if (r.section == section && r.name == n) found++;
      EXPECT_EQ(found, 1) << section << "." << n << " must be in exactly one list";
    }
  }
}

TEST(ContainerFields, RefusedAndWarnedFieldsCarryTheirWords) {
  for (auto& r : container_field_rules()) {
    if (r.policy == FieldPolicy::kApplied) continue;
    EXPECT_FALSE(r.message.empty()) << r.name;
  }
}

std::string error_of(const json& body) {
  std::vector<std::string> warnings;
  try {
    decode_create_request("", body.dump(), warnings);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(ContainerDecode, WarnsAboutFieldsNotAppliedYet) {
  std::vector<std::string> warnings;
  auto r =
      decode_create_request("", json{{"Image", "busybox"}, {"ArgsEscaped", true}}.dump(), warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Windows-only"), std::string::npos) << warnings[0];
}

TEST(ContainerDecode, HealthcheckIsKeptWithDockersNamesAndBounds) {
  std::vector<std::string> warnings;
  auto r = decode_create_request(
      "",
      json{{"Image", "busybox"},
           {"healthcheck", {{"test", {"CMD-SHELL", "true"}}, {"interval", 1000000000}}}}
          .dump(),
      warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(r.config["Healthcheck"],
            json({{"Test", {"CMD-SHELL", "true"}}, {"Interval", 1000000000}}));
  EXPECT_EQ(error_of({{"Healthcheck", {{"Interval", 5}}}}),
            "Interval in Healthcheck cannot be less than 1ms");
  EXPECT_EQ(error_of({{"Healthcheck", {{"StartInterval", 999999}}}}),
            "StartInterval in Healthcheck cannot be less than 1ms");
  EXPECT_EQ(error_of({{"Healthcheck", {{"Retries", -1}}}}),
            "Retries in Healthcheck cannot be negative");
  EXPECT_NE(error_of({{"Healthcheck", {{"Timeout", "1s"}}}}).find("cannot unmarshal string"),
            std::string::npos);
}

TEST(ContainerDecode, MountsAreTyped) {
  std::vector<std::string> warnings;
  auto r = decode_create_request(
      "",
      json{{"Image", "busybox"},
           {"HostConfig",
            {{"Binds", {"/srv/../srv/web:/usr/share/html:ro", "data:/data", "/anon"}},
             {"Mounts",
              {{{"Type", "volume"},
                {"Target", "/cache"},
                {"VolumeOptions", {{"NoCopy", true}, {"Subpath", "a/b"}}}},
               {{"Type", "tmpfs"}, {"Target", "/run/t"}, {"TmpfsOptions", {{"SizeBytes", 4096}}}}}},
             {"Tmpfs", {{"/scratch", "size=1m,exec"}}},
             {"VolumesFrom", {"other:ro"}}}}}
          .dump(),
      warnings);
  EXPECT_TRUE(warnings.empty());
  auto& m = r.spec.mounts;
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].type, engine::MountSpec::Type::kBind);
  EXPECT_EQ(m[0].source, "/srv/web");
  EXPECT_EQ(m[0].destination, "/usr/share/html");
  EXPECT_TRUE(m[0].read_only);
  EXPECT_TRUE(m[0].create_host_path);
  EXPECT_EQ(m[0].propagation, "rprivate");
  EXPECT_EQ(m[1].type, engine::MountSpec::Type::kVolume);
  EXPECT_EQ(m[1].source, "data");
  EXPECT_EQ(m[1].mode, "z");
  EXPECT_TRUE(m[2].anonymous);
  EXPECT_EQ(m[2].destination, "/anon");
  EXPECT_TRUE(m[3].no_copy);
  EXPECT_EQ(m[3].subpath, "a/b");
  EXPECT_EQ(m[4].tmpfs_size, 4096);
  EXPECT_EQ(m[5].tmpfs_options, (std::vector<std::string>{"size=1m", "exec"}));
  ASSERT_EQ(r.spec.volumes_from.size(), 1u);
  EXPECT_EQ(r.spec.volumes_from[0].container, "other");
  EXPECT_EQ(r.spec.volumes_from[0].mode, "ro");
}

TEST(ContainerDecode, RefusesBadMountsWithDockersWords) {
  auto binds = [](json b) { return json{{"Image", "b"}, {"HostConfig", {{"Binds", b}}}}; };
  EXPECT_EQ(error_of(binds({"/a:/b:xyz"})), "invalid mode: xyz");
  EXPECT_EQ(error_of(binds({"/a:/b:c:d"})), "invalid volume specification: '/a:/b:c:d'");
  EXPECT_EQ(error_of(binds({"/a:rel"})),
            "invalid volume specification: '/a:rel': invalid mount config for type \"bind\": "
            "invalid mount path: 'rel' mount path must be absolute");
  EXPECT_EQ(error_of(binds({"/a:/"})),
            "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
            "invalid specification: destination can't be '/'");
  EXPECT_EQ(error_of(binds({"/a:/x", "v:/x/"})), "Duplicate mount point: /x");
  EXPECT_EQ(error_of({{"Image", "b"},
                      {"HostConfig", {{"Mounts", {{{"Type", "bind"}, {"Target", "/x"}}}}}}}),
            "invalid mount config for type \"bind\": field Source must not be empty");
  EXPECT_EQ(error_of({{"Image", "b"},
                      {"HostConfig", {{"Mounts", {{{"Type", "nfs"}, {"Target", "/x"}}}}}}}),
            "invalid mount config for type \"nfs\": mount type unknown");
}

TEST(ContainerDecode, ZeroValuesAreNotRequests) {
  std::vector<std::string> warnings;
  decode_create_request("",
                        json{{"Image", "busybox"},
                             {"HostConfig",
                              {{"Binds", nullptr},
                               {"Mounts", json::array()},
                               {"IOMaximumIOps", 0},
                               {"Cgroup", ""},
                               {"StorageOpt", json::object()}}}}
                            .dump(),
                        warnings);
  EXPECT_TRUE(warnings.empty());
}

TEST(ContainerDecode, RefusesWithDockersWords) {
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"IOMaximumBandwidth", 5}}}}),
            "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"Memory", 1024}}}}),
            "Minimum memory limit allowed is 6MB");
  EXPECT_EQ(
      error_of({{"Image", "b"}, {"HostConfig", {{"Memory", 64 << 20}, {"MemorySwap", 32 << 20}}}}),
      "Minimum memoryswap limit should be larger than memory limit, see usage");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"PidMode", "nope"}}}}),
            "invalid PID mode: nope");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"OomScoreAdj", 1001}}}}),
            "Invalid value 1001, range for oom score adj is [-1000, 1000]");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"DeviceCgroupRules", {"x 1:2 rwm"}}}}}),
            "invalid device cgroup format 'x 1:2 rwm'");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"Sysctls", {{"kernel.pid_max", "9"}}}}}}),
            "sysctl 'kernel.pid_max' is not allowed: it is not namespaced");
  EXPECT_EQ(
      error_of({{"Image", "b"},
                {"HostConfig", {{"Ulimits", {{{"Name", "nofile"}, {"Soft", 9}, {"Hard", 1}}}}}}}),
      "ulimit soft limit must be less than or equal to hard limit: 9 > 1");
}

TEST(ContainerDecode, RefusesBytesThatAreNotUtf8) {
  std::vector<std::string> warnings;
  EXPECT_THROW(decode_create_request("", "{\"Image\":\"b\",\"Labels\":{\"a\":\"\xff\"}}", warnings),
               nlohmann::json::parse_error);
}

TEST(ErrorResponse, QuotesBytesThatAreNotUtf8WithoutThrowing) {
  auto r = error_response(400, "invalid JSON: last read: '\"\xff'");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid JSON"), std::string::npos) << r.body;
}

TEST(ContainerDecode, RefusesWrongTypesAsGoDoes) {
  EXPECT_EQ(error_of({{"Image", "b"}, {"Labels", {{"a", 1}}}}),
            "json: cannot unmarshal object into Go struct field Config.Labels of type "
            "map[string]string");
  EXPECT_EQ(error_of({{"Image", "b"}, {"HostConfig", {{"Memory", "20m"}}}}),
            "json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64");
}

TEST(ContainerDecode, MatchesNamesCaseInsensitivelyAndKeepsDockersSpelling) {
  std::vector<std::string> warnings;
  auto r = decode_create_request(
      "", json{{"image", "b"}, {"hostconfig", {{"pidmode", "host"}, {"SHMSIZE", 1 << 20}}}}.dump(),
      warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(r.config["Image"], "b");
  EXPECT_EQ(r.host_config["PidMode"], "host");
  EXPECT_TRUE(r.spec.pid.host());
  EXPECT_EQ(r.spec.shm_size, 1 << 20);
}

TEST(ContainerDecode, TypedSpecCarriesWhatIsApplied) {
  std::vector<std::string> warnings;
  auto r = decode_create_request("",
                                 json{{"Image", "b"},
                                      {"HostConfig",
                                       {{"IpcMode", "container:db"},
                                        {"UTSMode", "host"},
                                        {"Devices",
                                         {{{"PathOnHost", "/dev/null"},
                                           {"PathInContainer", "/dev/x"},
                                           {"CgroupPermissions", "rw"}}}},
                                        {"DeviceCgroupRules", {"c 1:* rm"}},
                                        {"GroupAdd", {"audio"}},
                                        {"Memory", 20 << 20},
                                        {"NanoCpus", 500000000},
                                        {"PidsLimit", -1}}}}
                                     .dump(),
                                 warnings);
  EXPECT_EQ(r.spec.ipc.joined(), std::optional<std::string>("db"));
  EXPECT_TRUE(r.spec.uts.host());
  ASSERT_EQ(r.spec.devices.size(), 1u);
  EXPECT_EQ(r.spec.devices[0].path_in_container, "/dev/x");
  EXPECT_EQ(r.spec.devices[0].permissions, "rw");
  ASSERT_EQ(r.spec.device_cgroup_rules.size(), 1u);
  EXPECT_EQ(r.spec.device_cgroup_rules[0].major, std::optional<int64_t>(1));
  EXPECT_FALSE(r.spec.device_cgroup_rules[0].minor);
  EXPECT_EQ(r.spec.group_add, std::vector<std::string>{"audio"});
  EXPECT_EQ(r.spec.resources.memory, 20 << 20);
  EXPECT_EQ(r.spec.resources.nano_cpus, 500000000);
  EXPECT_FALSE(r.spec.resources.pids_limit);  // -1: unlimited, as Docker normalizes it
}

}  // namespace
}  // namespace berth::api
