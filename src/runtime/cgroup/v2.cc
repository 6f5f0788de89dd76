// cgroup v2: one directory in the unified hierarchy, controllers enabled down the tree,
// OCI's v1-shaped values converted as runc converts them.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

// All in the one directory. Limits are written in this order, and the first one refused stops
// the rest.
const Controller* const kControllers[] = {&kDevicesV2, &kMemoryV2, &kCpuV2,    &kCpusetV2,
                                          &kPidsV2,    &kIoV2,     &kHugetlbV2};

class CgroupV2 : public Cgroup {
 public:
  CgroupV2(const std::string& cgroups_path, const std::string& fs_root) : root_(fs_root) {
    rel_ = resolve_cgroup_path(cgroups_path, own_cgroup(""));
    dir_ = path_join(root_, rel_);
  }

  void create() override {
    std::string cur = root_;
    auto parts = split(rel_, '/');
    for (auto& part : parts) {
      if (part.empty()) continue;
      enable_controllers(cur);
      cur = path_join(cur, part);
      if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("cgroup: mkdir " + cur);
    }
  }

  void add_process(pid_t pid) override { write_control(dir_, "cgroup.procs", std::to_string(pid)); }
  void join_self(const std::map<std::string, std::string>& below) const override {
    std::string dir = dir_;
    for (auto& [controller, sub] : below) {
      if (!controller.empty())
        throw Error("cgroup: a controller (\"" + controller +
                    "\") cannot be named on the cgroup v2 unified hierarchy");
      dir = path_join(dir_, sub);
    }
    write_control(dir, "cgroup.procs", "0");
  }

  void apply(const oci::Resources& r) override {
    for (auto* c : kControllers)
      if (c->apply) c->apply(dir_, r);
    for (auto& [file, value] : r.unified) {
      if (file.find('/') != std::string::npos || file == "." || file == "..")
        throw Error("cgroup: invalid unified key \"" + file + "\"");
      write_control(dir_, file, value);
    }
  }

  std::vector<pid_t> pids() const override { return read_procs(dir_); }

  void freeze(bool frozen) override { freeze_v2(dir_, frozen); }
  bool frozen() const override { return frozen_v2(dir_); }

  uint64_t oom_kills() const override { return oom_kill_count(dir_, true); }

  nlohmann::json stats() const override {
    nlohmann::json s = nlohmann::json::object();
    for (auto* c : kControllers)
      if (c->stats) c->stats(dir_, s);
    return s;
  }

  void destroy() override { remove_cgroup_dir(dir_); }

  void mount_into(const std::string& target, unsigned long flags) const override {
    // The container's own cgroup, bound in place: the same view a cgroup namespace gives,
    // and it works from a user namespace too.
    if (::mount(dir_.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      throw_errno("bind " + dir_ + " on " + target);
    if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) < 0)
      throw_errno("remount " + target);
  }

  std::string describe() const override { return dir_; }

 private:
  // Controllers must be enabled in every ancestor's subtree_control for the leaf to have
  // their files. Each is enabled alone so that one the parent cannot give does not stop
  // the others; what is missing shows later as a clear error on the file that is absent.
  void enable_controllers(const std::string& dir) {
    auto available = read_file_if_exists(path_join(dir, "cgroup.controllers")).value_or("");
    auto enabled = read_file_if_exists(path_join(dir, "cgroup.subtree_control")).value_or("");
    auto words = split(trim(enabled), ' ');
    for (auto& c : split(trim(available), ' ')) {
      if (c.empty() || std::find(words.begin(), words.end(), c) != words.end()) continue;
      try {
        write_control(dir, "cgroup.subtree_control", "+" + c);
      } catch (const Error&) {
      }
    }
  }

  std::string root_, rel_, dir_;
};

}  // namespace

std::unique_ptr<Cgroup> make_cgroup_v2(const std::string& cgroups_path,
                                       const std::string& fs_root) {
  return std::make_unique<CgroupV2>(cgroups_path, fs_root);
}

}  // namespace berth::runtime
