// Root integration tests: real containers run by the berth-runtime binary, each test with
// its own state root and bundle, all removed even when the test fails.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/file.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace berth::test {

// A busybox rootfs and a config.json from `berth-runtime spec`, in a fresh temp directory.
class Bundle {
 public:
  Bundle();
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_ / "rootfs"; }
  std::string state_root() const { return dir_ / "state"; }
  nlohmann::json& config() { return config_; }
  // Sets process.args (and terminal false); writes config.json.
  void set_args(const std::vector<std::string>& args);
  void save() const;

  // berth-runtime --root <state> <args...>; the container ids created are deleted at the end.
  Result runtime(const std::vector<std::string>& args, const std::string& input = "");
  // `run` in the foreground with `args` as the process; returns the result.
  Result run(const std::string& id, const std::vector<std::string>& args);

 private:
  TempDir dir_{"it"};
  nlohmann::json config_;
  std::vector<std::string> ids_;
};

// A unique name for cgroups, ids and files of this test process.
std::string unique_name(const std::string& prefix);
bool cgroup_v1_has(const std::string& controller);

}  // namespace berth::test
