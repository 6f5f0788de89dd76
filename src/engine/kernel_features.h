// What this kernel's cgroups can limit, read once from the mounted hierarchies (v1, hybrid or
// v2): a limit is applied only where it can be, said as a warning where it cannot, and /info
// claims only these.
#pragma once

#include <string>

namespace berth::engine {

struct KernelFeatures {
  bool cgroup_v2 = false;
  bool memory = false, swap_limit = false, memory_swappiness = false, oom_kill_disable = false;
  bool cpu_shares = false, cpu_cfs = false, cpu_realtime = false, cpuset = false;
  bool blkio_weight = false, blkio_throttle = false;
  bool pids = false;
};

// Probes under `cgroup_root` (/sys/fs/cgroup; a test passes a fake tree).
KernelFeatures probe_kernel_features(const std::string& cgroup_root);
// The machine's, probed once.
const KernelFeatures& kernel_features();

}  // namespace berth::engine
