#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace berth::test {

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

bool cgroup_v1_has(const std::string& controller) {
  struct stat st;
  return stat(("/sys/fs/cgroup/" + controller + "/cgroup.procs").c_str(), &st) == 0;
}

Bundle::Bundle() {
  // Reachable by the ids a user namespace maps root to.
  chmod(dir().c_str(), 0755);
  namespace fs = std::filesystem;
  fs::create_directories(rootfs() + "/bin");
  for (auto d : {"proc", "sys", "dev", "tmp", "etc", "root", "var"})
    fs::create_directories(rootfs() + "/" + d);
  fs::copy_file("/bin/busybox", rootfs() + "/bin/busybox");
  auto list = run_program({"/bin/busybox", "--list"}).out;
  std::istringstream names(list);
  for (std::string name; std::getline(names, name);) {
    if (name.empty() || name == "busybox") continue;
    symlink("busybox", (rootfs() + "/bin/" + name).c_str());
  }
  std::ofstream(rootfs() + "/etc/passwd")
      << "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
  std::ofstream(rootfs() + "/etc/group") << "root:x:0:\nnogroup:x:65534:\n";
  auto spec = run_program({BERTH_RUNTIME_BIN, "spec", "--bundle", dir()});
  if (spec.status != 0) throw std::runtime_error("berth-runtime spec failed: " + spec.err);
  config_ = nlohmann::json::parse(slurp(dir_ / "config.json"));
  config_["process"]["terminal"] = false;
  config_["root"]["readonly"] = false;
  save();
}

Bundle::~Bundle() {
  // Before dir_ goes: the runtime's state lives in it.
  for (auto& id : ids_)
    run_program({BERTH_RUNTIME_BIN, "--root", state_root(), "delete", "-f", id});
}

void Bundle::set_args(const std::vector<std::string>& args) {
  config_["process"]["args"] = args;
  config_["process"]["terminal"] = false;
  save();
}

void Bundle::save() const {
  std::ofstream(dir_ / "config.json") << config_.dump(2);
}

Result Bundle::runtime(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {BERTH_RUNTIME_BIN, "--root", state_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Remember ids so that the destructor deletes whatever the test left behind.
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "create" || args[i] == "run") {
      if (!args.empty()) ids_.push_back(args.back());
      break;
    }
  }
  return run_program(argv, input);
}

Result Bundle::run(const std::string& id, const std::vector<std::string>& args) {
  set_args(args);
  return runtime({"run", "--bundle", dir(), id});
}

}  // namespace berth::test
