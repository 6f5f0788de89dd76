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
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

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
  void join_self() const override { write_control(dir_, "cgroup.procs", "0"); }

  void apply(const oci::Resources& r) override {
    if (!r.devices.empty()) attach_device_filter(dir_, r.devices);
    const auto& m = r.memory;
    if (m.limit && *m.limit != 0) write_control(dir_, "memory.max", limit(*m.limit));
    if (m.reservation && *m.reservation != 0)
      write_control(dir_, "memory.low", limit(*m.reservation));
    if (m.swap && *m.swap != 0) {
      // OCI's swap is memory+swap; memory.swap.max is swap alone.
      std::string value = "max";
      if (*m.swap != -1) {
        if (!m.limit || *m.limit <= 0)
          throw Error("cgroup: memory.swap needs memory.limit on cgroup v2");
        if (*m.swap < *m.limit)
          throw Error("cgroup: memory.swap (" + std::to_string(*m.swap) +
                      ") is below memory.limit (" + std::to_string(*m.limit) + ")");
        value = std::to_string(*m.swap - *m.limit);
      }
      write_control(dir_, "memory.swap.max", value);
    }
    if (m.disable_oom_killer && *m.disable_oom_killer)
      throw Error("cgroup: disableOOMKiller is not available on cgroup v2");
    const auto& c = r.cpu;
    if (c.shares && *c.shares)
      write_control(dir_, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)));
    if ((c.quota && *c.quota) || (c.period && *c.period)) {
      std::string period = c.period && *c.period ? std::to_string(*c.period) : "100000";
      std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      write_control(dir_, "cpu.max", quota + " " + period);
    }
    if (!c.cpus.empty()) write_control(dir_, "cpuset.cpus", c.cpus);
    if (!c.mems.empty()) write_control(dir_, "cpuset.mems", c.mems);
    if (r.pids_limit)
      write_control(dir_, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
    const auto& b = r.block_io;
    if (b.weight && *b.weight)
      write_control(dir_, "io.weight",
                    "default " + std::to_string(blkio_weight_to_io_weight(*b.weight)));
    for (auto& d : b.weight_device)
      if (d.weight)
        write_control(dir_, "io.weight",
                      std::to_string(d.major) + ":" + std::to_string(d.minor) + " " +
                          std::to_string(blkio_weight_to_io_weight(*d.weight)));
    auto io_max = [&](const std::vector<oci::BlockIoDevice>& devs, const char* key) {
      for (auto& d : devs)
        write_control(dir_, "io.max",
                      std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + key + "=" +
                          std::to_string(d.rate));
    };
    io_max(b.throttle_read_bps, "rbps");
    io_max(b.throttle_write_bps, "wbps");
    io_max(b.throttle_read_iops, "riops");
    io_max(b.throttle_write_iops, "wiops");
    for (auto& hp : r.hugepage_limits)
      write_control(dir_, "hugetlb." + hp.page_size + ".max", std::to_string(hp.limit));
    for (auto& [file, value] : r.unified) {
      if (file.find('/') != std::string::npos || file == "." || file == "..")
        throw Error("cgroup: invalid unified key \"" + file + "\"");
      write_control(dir_, file, value);
    }
  }

  std::vector<pid_t> pids() const override { return read_procs(dir_); }

  void freeze(bool frozen) override {
    write_control(dir_, "cgroup.freeze", frozen ? "1" : "0");
    std::string want = frozen ? "frozen 1" : "frozen 0";
    // cgroup.events reports when every task has stopped; a task in the middle of a system
    // call takes a moment.
    for (int i = 0; i < 2000; i++) {
      auto events = read_file_if_exists(path_join(dir_, "cgroup.events")).value_or("");
      if (events.find(want) != std::string::npos) return;
      ::usleep(1000);
    }
    throw Error("cgroup: " + dir_ + " did not reach \"" + want + "\"");
  }

  bool frozen() const override {
    auto f = read_file_if_exists(path_join(dir_, "cgroup.freeze"));
    return f && trim(*f) == "1";
  }

  nlohmann::json stats() const override {
    nlohmann::json s = nlohmann::json::object();
    auto cpu = parse_flat_keyed(read_file_if_exists(path_join(dir_, "cpu.stat")).value_or(""));
    s["cpu"]["usage"] = {{"total", cpu.value("usage_usec", uint64_t{0}) * 1000},
                         {"kernel", cpu.value("system_usec", uint64_t{0}) * 1000},
                         {"user", cpu.value("user_usec", uint64_t{0}) * 1000}};
    s["cpu"]["throttling"] = {{"periods", cpu.value("nr_periods", uint64_t{0})},
                              {"throttledPeriods", cpu.value("nr_throttled", uint64_t{0})},
                              {"throttledTime", cpu.value("throttled_usec", uint64_t{0}) * 1000}};
    auto num = [&](const char* file) -> uint64_t {
      auto v = read_file_if_exists(path_join(dir_, file));
      if (!v || trim(*v) == "max") return 0;
      try {
        return std::stoull(*v);
      } catch (const std::exception&) {
        return 0;
      }
    };
    s["memory"] = {
        {"usage",
         {{"usage", num("memory.current")},
          {"limit", num("memory.max")},
          {"max", num("memory.peak")}}},
        {"swap", {{"usage", num("memory.swap.current")}, {"limit", num("memory.swap.max")}}},
        {"raw",
         parse_flat_keyed(read_file_if_exists(path_join(dir_, "memory.stat")).value_or(""))}};
    s["pids"] = {{"current", num("pids.current")}, {"limit", num("pids.max")}};
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
  static std::string limit(int64_t v) { return v == -1 ? "max" : std::to_string(v); }

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
