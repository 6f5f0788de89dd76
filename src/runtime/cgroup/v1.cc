// cgroup v1: one directory per hierarchy (memory, cpu, pids, ...), found in mountinfo, and
// on hybrid hosts the cgroup2 mount at <root>/unified beside them.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

struct Hierarchy {
  std::string mount;                     // e.g. /sys/fs/cgroup/memory
  std::vector<std::string> controllers;  // e.g. {"cpu", "cpuacct"}; {"name=systemd"}
  std::string dir;                       // this container's cgroup in it
  bool has(const std::string& c) const {
    for (auto& x : controllers)
      if (x == c) return true;
    return false;
  }
  bool named() const { return controllers.size() == 1 && controllers[0].rfind("name=", 0) == 0; }
};

const char* const kKnownControllers[] = {"cpu",      "cpuacct",    "cpuset", "memory",  "devices",
                                         "freezer",  "blkio",      "pids",   "hugetlb", "net_cls",
                                         "net_prio", "perf_event", "rdma",   "misc"};

// The v1 hierarchies mounted under fs_root, from /proc/self/mountinfo.
std::vector<Hierarchy> find_hierarchies(const std::string& fs_root, std::string* unified) {
  std::vector<Hierarchy> out;
  for (auto& line : split(read_file("/proc/self/mountinfo"), '\n')) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    auto pre = split(line.substr(0, sep), ' ');
    auto post = split(line.substr(sep + 3), ' ');
    if (pre.size() < 5 || post.size() < 3) continue;
    const std::string& mount = pre[4];
    if (mount.rfind(fs_root + "/", 0) != 0) continue;
    if (post[0] == "cgroup2") {
      if (unified) *unified = mount;
      continue;
    }
    if (post[0] != "cgroup") continue;
    Hierarchy h;
    h.mount = mount;
    for (auto& opt : split(post[2], ',')) {
      bool known = opt.rfind("name=", 0) == 0;
      for (auto* c : kKnownControllers) known |= opt == c;
      if (known) h.controllers.push_back(opt);
    }
    if (!h.controllers.empty()) out.push_back(std::move(h));
  }
  return out;
}

// Each one acts in its own hierarchy, when the host mounts it. Limits are written in this
// order, and the first one refused stops the rest.
const Controller* const kControllers[] = {&kDevicesV1, &kMemoryV1, &kCpuV1,     &kCpusetV1,
                                          &kPidsV1,    &kBlkioV1,  &kHugetlbV1, &kCpuacctV1};

class CgroupV1 : public Cgroup {
 public:
  CgroupV1(const std::string& cgroups_path, const std::string& fs_root) {
    std::string unified;
    hierarchies_ = find_hierarchies(fs_root, &unified);
    if (hierarchies_.empty())
      throw Error("cgroup: no cgroup v1 hierarchy mounted under " + fs_root);
    // The caller's own cgroup matters only to relative paths: skip reading it otherwise.
    bool relative =
        !cgroups_path.empty() && cgroups_path[0] != '/' && split(cgroups_path, ':').size() != 3;
    auto own = [&](const std::string& c) { return relative ? own_cgroup(c) : std::string("/"); };
    for (auto& h : hierarchies_)
      h.dir = path_join(h.mount, resolve_cgroup_path(cgroups_path, own(h.controllers[0])));
    if (!unified.empty())
      unified_dir_ = path_join(unified, resolve_cgroup_path(cgroups_path, own("")));
  }

  void create() override {
    for (auto& h : hierarchies_) {
      if (h.has("cpuset")) {
        create_cpuset_v1(h.mount, h.dir);
      } else {
        mkdir_p(h.dir);
      }
    }
    if (!unified_dir_.empty()) {
      // The unified mount of a hybrid host only tracks processes (and owns hugetlb here).
      try {
        mkdir_p(unified_dir_);
      } catch (const Error&) {
        unified_dir_.clear();
      }
    }
  }

  void add_process(pid_t pid) override {
    auto p = std::to_string(pid);
    for (auto& h : hierarchies_) {
      try {
        write_control(h.dir, "cgroup.procs", p);
      } catch (const Error&) {
        if (!h.named()) throw;
      }
    }
    if (!unified_dir_.empty()) {
      try {
        write_control(unified_dir_, "cgroup.procs", p);
      } catch (const Error&) {
      }
    }
  }

  void join_self(const std::map<std::string, std::string>& below) const override {
    for (auto& h : hierarchies_) {
      std::string dir = h.dir;
      if (!below.empty()) {
        auto sub = below.find("");
        for (auto& c : h.controllers)
          if (auto it = below.find(c); it != below.end()) sub = it;
        if (sub != below.end()) dir = path_join(h.dir, sub->second);
      }
      try {
        write_control(dir, "tasks", "0");
      } catch (const Error&) {
        if (!h.named()) throw;
      }
    }
    if (!unified_dir_.empty()) {
      try {
        write_control(unified_dir_, "cgroup.procs", "0");
      } catch (const Error&) {
      }
    }
  }

  void apply(const oci::Resources& r) override {
    for (auto* c : kControllers)
      if (auto* h = find(c->name); h && c->apply) c->apply(h->dir, r);
    // Hybrid hosts may give hugetlb to the unified mount instead of a v1 hierarchy.
    if (!find("hugetlb") && !unified_dir_.empty()) kHugetlbV2.apply(unified_dir_, r);
    if (!r.unified.empty()) {
      if (unified_dir_.empty())
        throw Error("cgroup: linux.resources.unified needs cgroup v2, and this host has v1");
      for (auto& [file, value] : r.unified) {
        if (file.find('/') != std::string::npos)
          throw Error("cgroup: invalid unified key \"" + file + "\"");
        write_control(unified_dir_, file, value);
      }
    }
  }

  std::vector<pid_t> pids() const override {
    for (auto* c : {"pids", "memory", "freezer"})
      if (auto* h = find(c)) return read_procs(h->dir);
    return read_procs(hierarchies_[0].dir);
  }

  void freeze(bool frozen) override {
    auto* h = find("freezer");
    if (!h) throw Error("cgroup: no freezer controller to pause with");
    freeze_v1(h->dir, frozen);
  }

  bool frozen() const override {
    auto* h = find("freezer");
    return h && frozen_v1(h->dir);
  }

  uint64_t oom_kills() const override {
    auto* h = find("memory");
    return h ? oom_kill_count(h->dir, false) : 0;
  }

  nlohmann::json stats() const override {
    nlohmann::json s = nlohmann::json::object();
    for (auto* c : kControllers)
      if (auto* h = find(c->name); h && c->stats) c->stats(h->dir, s);
    return s;
  }

  void destroy() override {
    for (auto& h : hierarchies_) remove_cgroup_dir(h.dir);
    if (!unified_dir_.empty()) remove_cgroup_dir(unified_dir_);
  }

  void mount_into(const std::string& target, unsigned long flags) const override {
    unsigned long common = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
    if (::mount("tmpfs", target.c_str(), "tmpfs", common, "mode=755") < 0)
      throw_errno("mount tmpfs on " + target);
    // Each hierarchy shows only this container's cgroup: its directory bound in place
    // (which also works inside user namespaces, where v1 cgroupfs cannot be mounted).
    auto bind = [&](const std::string& source, const std::string& name) {
      auto dest = path_join(target, name);
      if (::mkdir(dest.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("mkdir " + dest);
      if (::mount(source.c_str(), dest.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throw_errno("bind " + source + " on " + dest);
      if (::mount(nullptr, dest.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) < 0)
        throw_errno("remount " + dest);
    };
    for (auto& h : hierarchies_) {
      std::string name = h.named() ? h.controllers[0].substr(5) : "";
      if (name.empty()) {
        for (auto& c : h.controllers) name += (name.empty() ? "" : ",") + c;
      }
      bind(h.dir, name);
      if (h.controllers.size() > 1) {
        for (auto& c : h.controllers) {
          auto link = path_join(target, c);
          if (::symlink(name.c_str(), link.c_str()) < 0 && errno != EEXIST)
            throw_errno("symlink " + link);
        }
      }
    }
    if (!unified_dir_.empty()) bind(unified_dir_, "unified");
    if (flags & MS_RDONLY) {
      if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | common, "mode=755") <
          0)
        throw_errno("remount " + target + " read-only");
    }
  }

  std::string describe() const override {
    auto* h = find("memory");
    return h ? h->dir : hierarchies_[0].dir;
  }

 private:
  const Hierarchy* find(const char* controller) const {
    for (auto& h : hierarchies_)
      if (h.has(controller)) return &h;
    return nullptr;
  }

  std::vector<Hierarchy> hierarchies_;
  std::string unified_dir_;
};

}  // namespace

std::unique_ptr<Cgroup> make_cgroup_v1(const std::string& cgroups_path,
                                       const std::string& fs_root) {
  return std::make_unique<CgroupV1>(cgroups_path, fs_root);
}

}  // namespace berth::runtime
