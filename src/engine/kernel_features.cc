#include "engine/kernel_features.h"

#include <filesystem>

#include "base/fs.h"

namespace berth::engine {
namespace {

bool exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

// A v2 root does not show the files of some controllers (memory.swap.max, io.weight): they
// are read from any child cgroup that has them.
bool in_some_child(const std::string& root, const std::string& file) {
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(root, ec))
    if (e.is_directory(ec) && exists(e.path() / file)) return true;
  return false;
}

}  // namespace

KernelFeatures probe_kernel_features(const std::string& root) {
  KernelFeatures k;
  if (auto controllers = read_file_if_exists(root + "/cgroup.controllers")) {
    k.cgroup_v2 = true;
    auto has = [&](const std::string& c) {
      for (auto& w : split(*controllers, ' '))
        if (w == c || w == c + "\n") return true;
      return false;
    };
    k.memory = has("memory");
    k.swap_limit = k.memory && in_some_child(root, "memory.swap.max");
    k.cpu_shares = k.cpu_cfs = has("cpu");
    k.cpuset = has("cpuset");
    k.blkio_weight =
        has("io") && (in_some_child(root, "io.weight") || in_some_child(root, "io.bfq.weight"));
    k.blkio_throttle = has("io");
    k.pids = has("pids");
    return k;
  }
  k.memory = exists(root + "/memory/memory.limit_in_bytes");
  k.swap_limit = exists(root + "/memory/memory.memsw.limit_in_bytes");
  k.memory_swappiness = exists(root + "/memory/memory.swappiness");
  k.oom_kill_disable = exists(root + "/memory/memory.oom_control");
  k.cpu_shares = exists(root + "/cpu/cpu.shares");
  k.cpu_cfs = exists(root + "/cpu/cpu.cfs_quota_us");
  k.cpu_realtime = exists(root + "/cpu/cpu.rt_runtime_us");
  k.cpuset = exists(root + "/cpuset/cpuset.cpus");
  k.blkio_weight = exists(root + "/blkio/blkio.weight");
  k.blkio_throttle = exists(root + "/blkio/blkio.throttle.read_bps_device");
  k.pids = exists(root + "/pids/pids.max") || exists(root + "/pids/cgroup.procs");
  return k;
}

const KernelFeatures& kernel_features() {
  static const KernelFeatures k = probe_kernel_features("/sys/fs/cgroup");
  return k;
}

}  // namespace berth::engine
