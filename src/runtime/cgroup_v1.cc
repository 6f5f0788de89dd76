// cgroup v1: one directory per hierarchy (memory, cpu, pids, ...), found in mountinfo, and
// on hybrid hosts the cgroup2 mount at <root>/unified beside them.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
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
        create_cpuset(h);
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

  void join_self() const override {
    for (auto& h : hierarchies_) {
      try {
        write_control(h.dir, "tasks", "0");
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
    apply_devices(r.devices);
    apply_memory(r.memory);
    if (auto* h = find("cpu")) {
      if (r.cpu.shares && *r.cpu.shares)
        write_control(h->dir, "cpu.shares", std::to_string(*r.cpu.shares));
      if (r.cpu.period && *r.cpu.period)
        write_control(h->dir, "cpu.cfs_period_us", std::to_string(*r.cpu.period));
      if (r.cpu.quota && *r.cpu.quota)
        write_control(h->dir, "cpu.cfs_quota_us", std::to_string(*r.cpu.quota));
      if (r.cpu.realtime_period && *r.cpu.realtime_period)
        write_control(h->dir, "cpu.rt_period_us", std::to_string(*r.cpu.realtime_period));
      if (r.cpu.realtime_runtime && *r.cpu.realtime_runtime)
        write_control(h->dir, "cpu.rt_runtime_us", std::to_string(*r.cpu.realtime_runtime));
    }
    if (auto* h = find("cpuset")) {
      if (!r.cpu.cpus.empty()) write_control(h->dir, "cpuset.cpus", r.cpu.cpus);
      if (!r.cpu.mems.empty()) write_control(h->dir, "cpuset.mems", r.cpu.mems);
    }
    if (r.pids_limit) {
      if (auto* h = find("pids"))
        write_control(h->dir, "pids.max",
                      *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
    }
    apply_blkio(r.block_io);
    for (auto& hp : r.hugepage_limits) {
      if (auto* h = find("hugetlb"))
        write_control(h->dir, "hugetlb." + hp.page_size + ".limit_in_bytes",
                      std::to_string(hp.limit));
      else if (!unified_dir_.empty())
        write_control(unified_dir_, "hugetlb." + hp.page_size + ".max", std::to_string(hp.limit));
    }
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
    const char* want = frozen ? "FROZEN" : "THAWED";
    // The freezer moves through FREEZING; writing again nudges tasks that were busy.
    for (int i = 0; i < 2000; i++) {
      write_control(h->dir, "freezer.state", want);
      if (read_control(h->dir, "freezer.state") == want) return;
      ::usleep(1000);
    }
    throw Error("cgroup: " + h->dir + " did not reach " + want);
  }

  bool frozen() const override {
    auto* h = find("freezer");
    if (!h) return false;
    auto state = read_file_if_exists(path_join(h->dir, "freezer.state"));
    return state && trim(*state) == "FROZEN";
  }

  nlohmann::json stats() const override {
    nlohmann::json s = nlohmann::json::object();
    auto num = [](const std::string& dir, const char* file) -> uint64_t {
      auto v = read_file_if_exists(path_join(dir, file));
      try {
        return v ? std::stoull(*v) : 0;
      } catch (const std::exception&) {
        return 0;
      }
    };
    if (auto* h = find("cpuacct")) {
      nlohmann::json percpu = nlohmann::json::array();
      if (auto pc = read_file_if_exists(path_join(h->dir, "cpuacct.usage_percpu")))
        for (auto& v : split(trim(*pc), ' '))
          if (!v.empty()) percpu.push_back(std::stoull(v));
      auto st =
          parse_flat_keyed(read_file_if_exists(path_join(h->dir, "cpuacct.stat")).value_or(""));
      // cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds.
      uint64_t tick_ns = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      s["cpu"]["usage"] = {{"total", num(h->dir, "cpuacct.usage")},
                           {"percpu", percpu},
                           {"kernel", st.value("system", uint64_t{0}) * tick_ns},
                           {"user", st.value("user", uint64_t{0}) * tick_ns}};
    }
    if (auto* h = find("cpu")) {
      auto st = parse_flat_keyed(read_file_if_exists(path_join(h->dir, "cpu.stat")).value_or(""));
      s["cpu"]["throttling"] = {{"periods", st.value("nr_periods", uint64_t{0})},
                                {"throttledPeriods", st.value("nr_throttled", uint64_t{0})},
                                {"throttledTime", st.value("throttled_time", uint64_t{0})}};
    }
    if (auto* h = find("memory")) {
      auto entry = [&](const std::string& prefix) {
        return nlohmann::json{{"limit", num(h->dir, (prefix + "limit_in_bytes").c_str())},
                              {"usage", num(h->dir, (prefix + "usage_in_bytes").c_str())},
                              {"max", num(h->dir, (prefix + "max_usage_in_bytes").c_str())},
                              {"failcnt", num(h->dir, (prefix + "failcnt").c_str())}};
      };
      s["memory"] = {
          {"usage", entry("memory.")},
          {"swap", entry("memory.memsw.")},
          {"kernel", entry("memory.kmem.")},
          {"raw",
           parse_flat_keyed(read_file_if_exists(path_join(h->dir, "memory.stat")).value_or(""))}};
    }
    if (auto* h = find("pids")) {
      auto max = read_file_if_exists(path_join(h->dir, "pids.max")).value_or("max");
      s["pids"] = {{"current", num(h->dir, "pids.current")},
                   {"limit", trim(max) == "max" ? 0 : std::stoull(max)}};
    }
    if (auto* h = find("blkio")) {
      nlohmann::json entries = nlohmann::json::array();
      auto text = read_file_if_exists(path_join(h->dir, "blkio.throttle.io_service_bytes"));
      for (auto& line : split(text.value_or(""), '\n')) {
        auto f = split(line, ' ');
        if (f.size() != 3) continue;
        auto mm = split(f[0], ':');
        if (mm.size() != 2) continue;
        entries.push_back({{"major", std::stoull(mm[0])},
                           {"minor", std::stoull(mm[1])},
                           {"op", f[1]},
                           {"value", std::stoull(f[2])}});
      }
      s["blkio"]["ioServiceBytesRecursive"] = entries;
    }
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

  // A new cpuset cgroup starts with empty cpus and mems, and no task can join it until they
  // are set: copy them down from the parent at every level created.
  void create_cpuset(const Hierarchy& h) {
    std::string rel = h.dir.substr(h.mount.size());
    std::string cur = h.mount;
    for (auto& part : split(rel, '/')) {
      if (part.empty()) continue;
      std::string parent = cur;
      cur = path_join(cur, part);
      if (::mkdir(cur.c_str(), 0755) < 0) {
        if (errno == EEXIST) continue;
        throw_errno("cgroup: mkdir " + cur);
      }
      for (auto* f : {"cpuset.cpus", "cpuset.mems"})
        if (read_control(cur, f).empty()) write_control(cur, f, read_control(parent, f));
    }
  }

  void apply_devices(const std::vector<oci::DeviceRule>& rules) {
    auto* h = find("devices");
    if (!h || rules.empty()) return;
    for (auto& r : rules) {
      std::string value = r.type == "a" || r.type.empty()
                              ? "a"
                              : r.type + " " + device_numbers(r.major, r.minor) + " " + r.access;
      write_control(h->dir, r.allow ? "devices.allow" : "devices.deny", value);
    }
  }

  void apply_memory(const oci::MemoryResources& m) {
    auto* h = find("memory");
    if (!h) return;
    auto val = [](int64_t v) { return std::to_string(v); };
    bool has_limit = m.limit && *m.limit != 0;
    bool has_swap = m.swap && *m.swap != 0;
    if (has_swap && !path_exists(path_join(h->dir, "memory.memsw.limit_in_bytes")))
      throw Error("cgroup: memory swap limit set, but this kernel does not account swap");
    if (has_limit && has_swap) {
      // The kernel wants memory <= memory+swap at every step: order the two writes.
      int64_t cur_swap = std::stoll(read_control(h->dir, "memory.memsw.limit_in_bytes"));
      if (*m.swap == -1 || (cur_swap != -1 && *m.swap > cur_swap)) {
        write_control(h->dir, "memory.memsw.limit_in_bytes", val(*m.swap));
        write_control(h->dir, "memory.limit_in_bytes", val(*m.limit));
      } else {
        write_control(h->dir, "memory.limit_in_bytes", val(*m.limit));
        write_control(h->dir, "memory.memsw.limit_in_bytes", val(*m.swap));
      }
    } else if (has_limit) {
      write_control(h->dir, "memory.limit_in_bytes", val(*m.limit));
    } else if (has_swap) {
      write_control(h->dir, "memory.memsw.limit_in_bytes", val(*m.swap));
    }
    if (m.reservation && *m.reservation != 0)
      write_control(h->dir, "memory.soft_limit_in_bytes", val(*m.reservation));
    if (m.swappiness && *m.swappiness <= 100)
      write_control(h->dir, "memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer && *m.disable_oom_killer)
      write_control(h->dir, "memory.oom_control", "1");
  }

  void apply_blkio(const oci::BlockIoResources& b) {
    auto* h = find("blkio");
    if (!h) return;
    auto weight_file =
        path_exists(path_join(h->dir, "blkio.weight")) ? "blkio.weight" : "blkio.bfq.weight";
    if (b.weight && *b.weight) write_control(h->dir, weight_file, std::to_string(*b.weight));
    if (b.leaf_weight && *b.leaf_weight)
      write_control(h->dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (auto& d : b.weight_device) {
      auto dev = std::to_string(d.major) + ":" + std::to_string(d.minor);
      if (d.weight)
        write_control(h->dir, std::string(weight_file) + "_device",
                      dev + " " + std::to_string(*d.weight));
      if (d.leaf_weight)
        write_control(h->dir, "blkio.leaf_weight_device",
                      dev + " " + std::to_string(*d.leaf_weight));
    }
    auto throttle = [&](const std::vector<oci::BlockIoDevice>& devs, const char* file) {
      for (auto& d : devs)
        write_control(
            h->dir, file,
            std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + std::to_string(d.rate));
    };
    throttle(b.throttle_read_bps, "blkio.throttle.read_bps_device");
    throttle(b.throttle_write_bps, "blkio.throttle.write_bps_device");
    throttle(b.throttle_read_iops, "blkio.throttle.read_iops_device");
    throttle(b.throttle_write_iops, "blkio.throttle.write_iops_device");
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
