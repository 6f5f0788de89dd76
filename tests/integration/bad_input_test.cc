// Bad config: one clear error naming the field or path, and nothing left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "harness.h"

namespace berth::test {
namespace {

struct Case {
  const char* name;
  std::function<void(nlohmann::json&)> edit;
  const char* expect;
};

void expect_clean_failure(Bundle& b, const std::string& id, const std::string& expect) {
  auto r = b.runtime({"create", "--bundle", b.dir(), id});
  EXPECT_NE(r.status, 0) << expect;
  EXPECT_NE(r.err.find(expect), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
  for (auto c : {"memory", "pids", "cpu", "freezer", "devices"})
    EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/" + std::string(c) + "/berth-test/" + id))
        << c;
  EXPECT_EQ(b.runtime({"list", "-q"}).out, "");
}

TEST(BadInput, MalformedJson) {
  Bundle b;
  std::ofstream(b.dir() + "/config.json") << "{\"ociVersion\": ";
  expect_clean_failure(b, unique_name("t"), "berth-runtime: unexpected EOF\n");
}

TEST(BadInput, MissingConfig) {
  Bundle b;
  std::filesystem::remove(b.dir() + "/config.json");
  expect_clean_failure(b, unique_name("t"), "config.json");
}

TEST(BadInput, EachBrokenField) {
  std::vector<Case> cases = {
      {"no process", [](auto& j) { j.erase("process"); }, "process property must not be empty"},
      {"args not array", [](auto& j) { j["process"]["args"] = "sh"; }, "process.args"},
      {"empty args", [](auto& j) { j["process"]["args"] = nlohmann::json::array(); },
       "args must not be empty"},
      {"missing rootfs", [](auto& j) { j["root"]["path"] = "/no/rootfs"; },
       "invalid rootfs: stat /no/rootfs: no such file or directory"},
      // /bin/sh is a symlink to busybox in the test's rootfs.
      {"proc on a symlink",
       [](auto& j) {
         j["mounts"].push_back({{"destination", "/bin/sh"}, {"type", "proc"}, {"source", "proc"}});
       },
       "filesystem \"proc\" must be mounted on ordinary directory"},
      {"bad namespace",
       [](auto& j) {
         j["linux"]["namespaces"].push_back({{"type", "bogus"}});
       },
       "berth-runtime: namespace {\"bogus\" \"\"} does not exist\n"},
      {"relative cwd", [](auto& j) { j["process"]["cwd"] = "relative/dir"; },
       "berth-runtime: Cwd must be an absolute path\n"},
      {"bad mount source",
       [](auto& j) {
         j["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", "/no/such/dir"},
                                {"options", {"rbind"}}});
       },
       "berth-runtime: error mounting \"/no/such/dir\" to rootfs at \"/data\": stat "
       "/no/such/dir: no such file or directory\n"},
      {"bad mount type",
       [](auto& j) {
         j["mounts"].push_back({{"destination", "/x"}, {"type", "nosuchfs"}, {"source", "x"}});
       },
       "berth-runtime: error mounting \"x\" to rootfs at \"/x\": mount x:/x: no such device\n"},
      {"bad cgroup value",
       [](auto& j) {
         j["linux"]["resources"]["cpu"] = {{"cpus", "9999"}};
       },
       "cpuset"},
      {"bad seccomp action",
       [](auto& j) {
         j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_EXPLODE"}};
       },
       "SCMP_ACT_EXPLODE"},
      {"bad rlimit",
       [](auto& j) {
         j["process"]["rlimits"] = {{{"type", "RLIMIT_BOGUS"}, {"hard", 1}, {"soft", 1}}};
       },
       "RLIMIT_BOGUS"},
      {"hostname without uts",
       [](auto& j) {
         auto& ns = j["linux"]["namespaces"];
         for (auto it = ns.begin(); it != ns.end(); ++it)
           if ((*it)["type"] == "uts") {
             ns.erase(it);
             break;
           }
         j["hostname"] = "h";
       },
       "uts"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    Bundle b;
    std::string id = unique_name("t");
    b.config()["linux"]["cgroupsPath"] = "/berth-test/" + id;
    c.edit(b.config());
    b.save();
    expect_clean_failure(b, id, c.expect);
  }
}

TEST(BadInput, InvalidContainerId) {
  Bundle b;
  auto r = b.runtime({"create", "--bundle", b.dir(), "../escape"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("invalid container id"), std::string::npos) << r.err;
}

TEST(BadInput, UnknownContainer) {
  Bundle b;
  for (auto verb : {"state", "start", "kill", "delete", "pause", "resume"}) {
    auto r = b.runtime({verb, "no-such-container"});
    EXPECT_NE(r.status, 0) << verb;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << verb << ": " << r.err;
  }
  EXPECT_EQ(b.runtime({"delete", "--force", "no-such-container"}).status, 0);
}

}  // namespace
}  // namespace berth::test
