// Docker's container stats: samples of a container's cgroups (v1 or v2), of the host's CPU time
// and of the container's network interfaces, read straight from the kernel's files, and the
// sampling cadence of dockerd's GET /containers/{id}/stats.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace berth::engine {

class ContainerManager;

struct CpuStats {
  uint64_t total_usage = 0;  // ns
  uint64_t usage_in_kernelmode = 0;
  uint64_t usage_in_usermode = 0;
  std::vector<uint64_t> percpu_usage;  // cgroup v1 only
  uint64_t system_cpu_usage = 0;       // the host's, ns, from /proc/stat
  uint32_t online_cpus = 0;
  uint64_t throttling_periods = 0;
  uint64_t throttled_periods = 0;
  uint64_t throttled_time = 0;  // ns
};

struct MemoryStats {
  uint64_t usage = 0;
  uint64_t max_usage = 0;  // v1 only
  uint64_t failcnt = 0;    // v1's failcnt; v2's oom count from memory.events
  uint64_t limit = 0;      // the host's memory when the cgroup has no lower limit
  // memory.stat, under the keys dockerd gives for that cgroup version, in its order.
  std::vector<std::pair<std::string, uint64_t>> stats;
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // as the kernel writes it ("Read", "Write"...; v2: "read", "write")
  uint64_t value = 0;
};

// Docker's eight lists; nullopt is its null (cgroup v2 fills only service_bytes, and a
// container that is not running has none).
struct BlkioStats {
  std::optional<std::vector<BlkioEntry>> service_bytes, serviced, queued, service_time, wait_time,
      merged, time, sectors;
};

struct NetworkStats {
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

struct StatsSample {
  int64_t read = 0;  // unix ns; 0 for a container that is not running (Go's zero time)
  CpuStats cpu;
  MemoryStats memory;
  BlkioStats blkio;
  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0: none (v2's "max" is the largest uint64, as dockerd says it)
  std::map<std::string, NetworkStats> networks;  // by interface, loopback left out
};

// One answer of the stats endpoint: a sample and the one before it.
struct StatsFrame {
  std::string id;
  std::string name;  // with Docker's leading '/'
  StatsSample sample;
  int64_t preread = 0;
  CpuStats precpu;
};

// Where the host keeps what a sample reads, found once per daemon (or a fake tree in tests).
struct StatsHost {
  bool v2 = false;
  std::string unified;                           // v2: the cgroup2 mount
  std::map<std::string, std::string> v1_mounts;  // v1: controller -> its hierarchy's mount
  std::string proc = "/proc";                    // stat, meminfo and <pid>/net/dev
  uint64_t machine_memory = 0;                   // MemTotal, in bytes

  static StatsHost detect(const std::string& cgroup_root = "/sys/fs/cgroup",
                          const std::string& proc = "/proc");
};

// controller -> mount point of every cgroup v1 hierarchy in a mountinfo text.
std::map<std::string, std::string> cgroup_v1_mounts(const std::string& mountinfo);

// One sample of the cgroup at `cgroup_path` (linux.cgroupsPath, from the hierarchies' roots)
// and, when `pid` > 0, of the network interfaces of that process's namespace; `cpu_only`: of
// the CPU figures alone. Files that are missing read as zero, as in dockerd's answers.
StatsSample read_stats(const StatsHost& host, const std::string& cgroup_path, pid_t pid,
                       bool cpu_only = false);

// Takes a frame; returns false once its client has gone.
using StatsEmit = std::function<bool(const StatsFrame&)>;

class StatsService {
 public:
  StatsService(ContainerManager& containers, StatsHost host);
  ~StatsService();
  StatsService(const StatsService&) = delete;
  StatsService& operator=(const StatsService&) = delete;

  // dockerd's stream=false answer for the container with this id: one frame, with a
  // previous CPU sample unless `one_shot` (the last one of this run, when an answer or a
  // stream took it between kPrecpuGap and two seconds ago, else one taken just before). A
  // container that is not running gets a frame with only its id and name.
  void once(const std::string& id, bool one_shot, const StatsEmit& emit) const;
  // dockerd's stream: the first frame now, in the caller's thread, then one a second from the
  // service's one sampling thread, each with the one before as its precpu, until the container
  // is removed or `emit` says its client left. A stream costs no thread of its own.
  void follow(const std::string& id, StatsEmit emit);

 private:
  struct Follower;
  // A container's last sample: its run (StartedAt), when and its CPU figures.
  struct LastCpu {
    std::string run;
    int64_t read = 0;
    CpuStats cpu;
  };
  // The container's frame now, and the run it is of; nullopt once it is removed.
  std::optional<StatsFrame> sample(const std::string& id, bool cpu_only = false,
                                   std::string* run = nullptr) const;
  void remember(const std::string& id, const std::string& run, const StatsSample& s) const;
  std::optional<LastCpu> last_cpu(const std::string& id) const;
  void collect();

  ContainerManager& containers_;
  StatsHost host_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Follower> followers_;
  bool stopping_ = false;
  std::thread collector_;
  mutable std::mutex last_mu_;
  mutable std::map<std::string, LastCpu> last_;
};

}  // namespace berth::engine
