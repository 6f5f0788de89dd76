// linux.resources from Docker's resource fields, in the OCI runtime spec's units, and the
// warnings dockerd gives when this kernel cannot apply one.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "base/error.h"
#include "engine/kernel_features.h"
#include "engine/spec_parts.h"

namespace berth::engine {
namespace {

std::pair<int64_t, int64_t> device_numbers(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0)
    throw InvalidArgument("error gathering device information for \"" + path +
                          "\": " + std::strerror(errno));
  if (!S_ISBLK(st.st_mode)) throw InvalidArgument("\"" + path + "\" is not a block device");
  return {major(st.st_rdev), minor(st.st_rdev)};
}

}  // namespace

oci::Resources container_resources(const Resources& r, const KernelFeatures& k) {
  oci::Resources out;
  auto& memory = out.memory;
  if (r.memory > 0 && k.memory) {
    memory.limit = r.memory;
    // Docker's default: as much swap as memory (memory+swap twice the memory).
    if (k.swap_limit) memory.swap = r.memory_swap != 0 ? r.memory_swap : 2 * r.memory;
  }
  if (r.memory_reservation > 0 && k.memory) memory.reservation = r.memory_reservation;
  if (r.memory_swappiness && *r.memory_swappiness >= 0 && k.memory_swappiness)
    memory.swappiness = static_cast<uint64_t>(*r.memory_swappiness);
  if (r.oom_kill_disable && k.oom_kill_disable) memory.disable_oom_killer = true;

  auto& cpu = out.cpu;
  if (r.cpu_shares > 0 && k.cpu_shares) cpu.shares = static_cast<uint64_t>(r.cpu_shares);
  if (k.cpu_cfs) {
    if (r.nano_cpus > 0) {
      cpu.period = 100000;
      cpu.quota = r.nano_cpus * 100000 / 1'000'000'000;
    }
    if (r.cpu_period > 0) cpu.period = static_cast<uint64_t>(r.cpu_period);
    if (r.cpu_quota != 0) cpu.quota = r.cpu_quota;
  }
  if (k.cpu_realtime) {
    if (r.cpu_realtime_period > 0)
      cpu.realtime_period = static_cast<uint64_t>(r.cpu_realtime_period);
    if (r.cpu_realtime_runtime != 0) cpu.realtime_runtime = r.cpu_realtime_runtime;
  }
  if (k.cpuset) {
    cpu.cpus = r.cpuset_cpus;
    cpu.mems = r.cpuset_mems;
  }

  if (r.pids_limit && k.pids) out.pids_limit = *r.pids_limit;

  auto& blkio = out.block_io;
  if (r.blkio_weight > 0 && k.blkio_weight) blkio.weight = static_cast<uint16_t>(r.blkio_weight);
  if (k.blkio_weight)
    for (auto& d : r.blkio_weight_device) {
      auto [maj, min] = device_numbers(d.path);
      oci::BlockIoDevice w;
      w.major = maj;
      w.minor = min;
      w.weight = static_cast<uint16_t>(d.weight);
      blkio.weight_device.push_back(w);
    }
  auto throttle = [&](std::vector<oci::BlockIoDevice>& into,
                      const std::vector<ThrottleDevice>& list) {
    for (auto& d : list) {
      auto [maj, min] = device_numbers(d.path);
      oci::BlockIoDevice t;
      t.major = maj;
      t.minor = min;
      t.rate = static_cast<uint64_t>(d.rate);
      into.push_back(t);
    }
  };
  if (k.blkio_throttle) {
    throttle(blkio.throttle_read_bps, r.read_bps);
    throttle(blkio.throttle_write_bps, r.write_bps);
    throttle(blkio.throttle_read_iops, r.read_iops);
    throttle(blkio.throttle_write_iops, r.write_iops);
  }
  return out;
}

std::vector<std::string> resource_warnings(const Resources& r, const KernelFeatures& k) {
  std::vector<std::string> w;
  auto say = [&](bool asked, bool have, const char* text) {
    if (asked && !have) w.emplace_back(text);
  };
  say(r.memory > 0 || r.memory_reservation > 0, k.memory,
      "Your kernel does not support memory limit capabilities or the cgroup is not mounted. "
      "Limitation discarded.");
  say(r.memory > 0 && r.memory_swap != -1, k.swap_limit,
      "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
      "Memory limited without swap.");
  say(r.memory_swappiness && *r.memory_swappiness >= 0, k.memory_swappiness,
      "Your kernel does not support memory swappiness capabilities or the cgroup is not "
      "mounted. Memory swappiness discarded.");
  say(r.oom_kill_disable, k.oom_kill_disable,
      "Your kernel does not support OomKillDisable. OomKillDisable discarded.");
  if (r.oom_kill_disable && k.oom_kill_disable && r.memory == 0)
    w.emplace_back(
        "OOM killer is disabled for the container, but no memory limit is set, this can result "
        "in the system running out of resources.");
  say(r.cpu_shares > 0, k.cpu_shares,
      "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.");
  say(r.cpu_period > 0 || r.cpu_quota > 0 || r.nano_cpus > 0, k.cpu_cfs,
      "Your kernel does not support CPU CFS scheduler or the cgroup is not mounted. "
      "Period and quota discarded.");
  say(r.cpu_realtime_period > 0 || r.cpu_realtime_runtime > 0, k.cpu_realtime,
      "Your kernel does not support cgroup cpu real-time period or runtime. Discarded.");
  say(!r.cpuset_cpus.empty() || !r.cpuset_mems.empty(), k.cpuset,
      "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.");
  say(r.blkio_weight > 0 || !r.blkio_weight_device.empty(), k.blkio_weight,
      "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight "
      "discarded.");
  say(!r.read_bps.empty() || !r.write_bps.empty() || !r.read_iops.empty() || !r.write_iops.empty(),
      k.blkio_throttle,
      "Your kernel does not support Block I/O throttling or the cgroup is not mounted. "
      "Throttling discarded.");
  say(r.pids_limit.has_value(), k.pids,
      "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs "
      "limit discarded.");
  return w;
}

}  // namespace berth::engine
