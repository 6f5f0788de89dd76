#include "engine/container_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <string_view>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/words.h"
#include "engine/events.h"
#include "engine/manager.h"
#include "engine/spec_builder.h"
#include "runtime/cgroups.h"

namespace berth::engine {
namespace {

// dockerd's collector samples every container once a second.
constexpr auto kStreamInterval = std::chrono::seconds(1);
// stream=false without one-shot answers with two samples, the first as precpu_stats, so that
// a client can compute CPU %. dockerd's pair is a collector cycle apart (1 to 2 s); a quarter
// of a second keeps /proc/stat's 10 ms granularity to a few percent of the CPU time between
// them on a small machine, and a `stats --no-stream` answers without making its user wait.
constexpr auto kPrecpuGap = std::chrono::milliseconds(250);
// An earlier sample of the same run serves as precpu up to this age, within dockerd's own
// 1 to 2 s: a `stats --no-stream` run again (or beside a stream) answers without waiting.
constexpr auto kPrecpuMaxAge = std::chrono::seconds(2);
// USER_HZ, the unit of /proc/stat and cpuacct.stat: 100 on every Linux ABI.
constexpr uint64_t kClockTicks = 100;
constexpr uint64_t kNanosPerSecond = 1000000000;

// A small kernel file whole, or "" when it cannot be read: stats show zeros for what a cgroup
// does not have (a controller not enabled, a cgroup gone with its container).
std::string slurp(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

uint64_t to_u64(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// A single-number control file; "max" is `unlimited`.
uint64_t read_number(const std::string& path, uint64_t unlimited = 0) {
  std::string text = slurp(path);
  if (text.rfind("max", 0) == 0) return unlimited;
  return to_u64(text);
}

// Calls fn(line) for each line of `text`.
template <typename Fn>
void each_line(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    fn(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events).
std::map<std::string, uint64_t, std::less<>> flat_keyed(const std::string& text) {
  std::map<std::string, uint64_t, std::less<>> out;
  each_line(text, [&](std::string_view line) {
    auto f = words(line);
    if (f.size() == 2) out.emplace(std::string(f[0]), to_u64(f[1]));
  });
  return out;
}

uint64_t value_of(const std::map<std::string, uint64_t, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// The memory.stat keys dockerd sends for each cgroup version (those containerd decodes).
constexpr const char* kMemoryKeysV1[] = {
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
};
constexpr const char* kMemoryKeysV2[] = {
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
};

template <size_t N>
std::vector<std::pair<std::string, uint64_t>> pick(
    const std::map<std::string, uint64_t, std::less<>>& stat, const char* const (&keys)[N]) {
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(N);
  for (const char* k : keys) out.emplace_back(k, value_of(stat, k));
  return out;
}

// blkio.* lines: "MAJ:MIN Op value", or "MAJ:MIN value" (sectors, time); "Total n" skipped.
std::vector<BlkioEntry> blkio_entries(const std::string& text) {
  std::vector<BlkioEntry> out;
  each_line(text, [&](std::string_view line) {
    auto f = words(line);
    if (f.size() < 2 || f[0] == "Total") return;
    auto colon = f[0].find(':');
    if (colon == std::string_view::npos) return;
    BlkioEntry e;
    e.major = to_u64(f[0].substr(0, colon));
    e.minor = to_u64(f[0].substr(colon + 1));
    if (f.size() >= 3) {
      e.op = std::string(f[1]);
      e.value = to_u64(f[2]);
    } else {
      e.value = to_u64(f[1]);
    }
    out.push_back(std::move(e));
  });
  return out;
}

void read_blkio_v1(const std::string& dir, BlkioStats& b) {
  auto file = [&](const char* name) { return blkio_entries(slurp(dir + "/blkio." + name)); };
  // The proportional-weight (CFQ/BFQ) files first; a cgroup whose devices use another
  // scheduler has only the throttle layer's counters, as containerd falls back.
  size_t found = 0;
  if (path_exists(dir + "/blkio.io_serviced_recursive")) {
    b.sectors = file("sectors_recursive");
    b.service_bytes = file("io_service_bytes_recursive");
    b.serviced = file("io_serviced_recursive");
    b.queued = file("io_queued_recursive");
    b.service_time = file("io_service_time_recursive");
    b.wait_time = file("io_wait_time_recursive");
    b.merged = file("io_merged_recursive");
    b.time = file("time_recursive");
    for (auto* l : {&b.sectors, &b.service_bytes, &b.serviced, &b.queued, &b.service_time,
                    &b.wait_time, &b.merged, &b.time})
      found += (*l)->size();
  }
  if (found == 0) {
    b.serviced = file("throttle.io_serviced");
    b.service_bytes = file("throttle.io_service_bytes");
  }
  // dockerd sends every v1 list, empty ones as [].
  for (auto* l : {&b.sectors, &b.service_bytes, &b.serviced, &b.queued, &b.service_time,
                  &b.wait_time, &b.merged, &b.time})
    if (!*l) *l = std::vector<BlkioEntry>{};
}

// io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..." per device.
std::optional<std::vector<BlkioEntry>> io_stat_v2(const std::string& text) {
  std::optional<std::vector<BlkioEntry>> out;
  each_line(text, [&](std::string_view line) {
    auto f = words(line);
    if (f.size() < 2) return;
    auto colon = f[0].find(':');
    if (colon == std::string_view::npos) return;
    uint64_t major = to_u64(f[0].substr(0, colon)), minor = to_u64(f[0].substr(colon + 1));
    uint64_t rbytes = 0, wbytes = 0;
    for (size_t i = 1; i < f.size(); i++) {
      if (f[i].rfind("rbytes=", 0) == 0) rbytes = to_u64(f[i].substr(7));
      if (f[i].rfind("wbytes=", 0) == 0) wbytes = to_u64(f[i].substr(7));
    }
    if (!out) out.emplace();
    out->push_back({major, minor, "read", rbytes});
    out->push_back({major, minor, "write", wbytes});
  });
  return out;
}

std::string v1_dir(const StatsHost& host, const char* controller, const std::string& path) {
  auto it = host.v1_mounts.find(controller);
  return it == host.v1_mounts.end() ? std::string() : path_join(it->second, path);
}

void read_cpu_v1(const StatsHost& host, const std::string& path, StatsSample& s) {
  auto dir = [&](const char* controller) { return v1_dir(host, controller, path); };
  if (auto d = dir("cpuacct"); !d.empty()) {
    s.cpu.total_usage = read_number(d + "/cpuacct.usage");
    std::string percpu = slurp(d + "/cpuacct.usage_percpu");
    for (auto v : words(percpu)) s.cpu.percpu_usage.push_back(to_u64(v));
    auto stat = flat_keyed(slurp(d + "/cpuacct.stat"));
    s.cpu.usage_in_usermode = value_of(stat, "user") * kNanosPerSecond / kClockTicks;
    s.cpu.usage_in_kernelmode = value_of(stat, "system") * kNanosPerSecond / kClockTicks;
  }
  if (auto d = dir("cpu"); !d.empty()) {
    auto stat = flat_keyed(slurp(d + "/cpu.stat"));
    s.cpu.throttling_periods = value_of(stat, "nr_periods");
    s.cpu.throttled_periods = value_of(stat, "nr_throttled");
    s.cpu.throttled_time = value_of(stat, "throttled_time");
  }
}

void read_rest_v1(const StatsHost& host, const std::string& path, StatsSample& s) {
  auto dir = [&](const char* controller) { return v1_dir(host, controller, path); };
  if (auto d = dir("memory"); !d.empty()) {
    s.memory.usage = read_number(d + "/memory.usage_in_bytes");
    s.memory.max_usage = read_number(d + "/memory.max_usage_in_bytes");
    s.memory.failcnt = read_number(d + "/memory.failcnt");
    s.memory.limit = read_number(d + "/memory.limit_in_bytes");
    s.memory.stats = pick(flat_keyed(slurp(d + "/memory.stat")), kMemoryKeysV1);
  }
  if (auto d = dir("blkio"); !d.empty()) read_blkio_v1(d, s.blkio);
  if (auto d = dir("pids"); !d.empty()) {
    s.pids_current = read_number(d + "/pids.current");
    s.pids_limit = read_number(d + "/pids.max");
  }
}

void read_cpu_v2(const StatsHost& host, const std::string& path, StatsSample& s) {
  auto cpu = flat_keyed(slurp(path_join(host.unified, path) + "/cpu.stat"));
  s.cpu.total_usage = value_of(cpu, "usage_usec") * 1000;
  s.cpu.usage_in_usermode = value_of(cpu, "user_usec") * 1000;
  s.cpu.usage_in_kernelmode = value_of(cpu, "system_usec") * 1000;
  s.cpu.throttling_periods = value_of(cpu, "nr_periods");
  s.cpu.throttled_periods = value_of(cpu, "nr_throttled");
  s.cpu.throttled_time = value_of(cpu, "throttled_usec") * 1000;
}

void read_rest_v2(const StatsHost& host, const std::string& path, StatsSample& s) {
  std::string d = path_join(host.unified, path);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  s.memory.usage = read_number(d + "/memory.current");
  s.memory.limit = read_number(d + "/memory.max", kMax);
  s.memory.failcnt = value_of(flat_keyed(slurp(d + "/memory.events")), "oom");
  s.memory.stats = pick(flat_keyed(slurp(d + "/memory.stat")), kMemoryKeysV2);
  s.blkio.service_bytes = io_stat_v2(slurp(d + "/io.stat"));
  s.pids_current = read_number(d + "/pids.current");
  s.pids_limit = read_number(d + "/pids.max", kMax);
}

// The "cpu" line of /proc/stat (user nice system idle iowait irq softirq) in ns, and the
// number of "cpuN" lines, as dockerd counts online CPUs.
void read_system_cpu(const std::string& proc, CpuStats& cpu) {
  std::string text = slurp(proc + "/stat");
  each_line(text, [&](std::string_view line) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4) return;
    if (line[3] == ' ') {
      auto f = words(line);
      uint64_t ticks = 0;
      for (size_t i = 1; i < f.size() && i <= 7; i++) ticks += to_u64(f[i]);
      cpu.system_cpu_usage = ticks * (kNanosPerSecond / kClockTicks);
    } else if (line[3] >= '0' && line[3] <= '9') {
      cpu.online_cpus++;
    }
  });
}

// The interfaces of the process's network namespace from /proc/<pid>/net/dev, which the
// kernel answers for that namespace: no setns, no netlink. Its "drop" column adds missed
// errors to rx_dropped, which veths never have.
std::map<std::string, NetworkStats> read_networks(const std::string& proc, pid_t pid) {
  std::map<std::string, NetworkStats> out;
  std::string text = slurp(proc + "/" + std::to_string(pid) + "/net/dev");
  each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto name = words(line.substr(0, colon));
    auto f = words(line.substr(colon + 1));
    if (name.size() != 1 || f.size() < 12 || name[0] == "lo") return;
    NetworkStats n;
    n.rx_bytes = to_u64(f[0]);
    n.rx_packets = to_u64(f[1]);
    n.rx_errors = to_u64(f[2]);
    n.rx_dropped = to_u64(f[3]);
    n.tx_bytes = to_u64(f[8]);
    n.tx_packets = to_u64(f[9]);
    n.tx_errors = to_u64(f[10]);
    n.tx_dropped = to_u64(f[11]);
    out.emplace(std::string(name[0]), n);
  });
  return out;
}

}  // namespace

std::map<std::string, std::string> cgroup_v1_mounts(const std::string& mountinfo) {
  std::map<std::string, std::string> out;
  each_line(mountinfo, [&](std::string_view line) {
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) return;
    auto pre = words(line.substr(0, sep));
    auto post = words(line.substr(sep + 3));
    if (pre.size() < 5 || post.size() < 3 || post[0] != "cgroup") return;
    for (auto opt : split(post[2], ','))
      if (opt != "rw" && opt != "ro" && opt.find('=') == std::string::npos)
        out.emplace(opt, std::string(pre[4]));
  });
  return out;
}

StatsHost StatsHost::detect(const std::string& cgroup_root, const std::string& proc) {
  StatsHost h;
  h.proc = proc;
  h.v2 = runtime::detect_cgroup_layout(cgroup_root) == runtime::CgroupLayout::kV2;
  if (h.v2) {
    h.unified = cgroup_root;
  } else {
    for (auto& [controller, mount] : cgroup_v1_mounts(slurp(proc + "/self/mountinfo")))
      if (mount.rfind(cgroup_root + "/", 0) == 0) h.v1_mounts.emplace(controller, mount);
  }
  each_line(slurp(proc + "/meminfo"), [&](std::string_view line) {
    if (line.rfind("MemTotal:", 0) == 0) h.machine_memory = to_u64(line.substr(9)) * 1024;
  });
  return h;
}

StatsSample read_stats(const StatsHost& host, const std::string& cgroup_path, pid_t pid,
                       bool cpu_only) {
  StatsSample s;
  s.read = now_nano();
  (host.v2 ? read_cpu_v2 : read_cpu_v1)(host, cgroup_path, s);
  // Sampled right after the cgroup's CPU time so that both deltas of a CPU % span the same
  // moments.
  read_system_cpu(host.proc, s.cpu);
  if (cpu_only) return s;
  (host.v2 ? read_rest_v2 : read_rest_v1)(host, cgroup_path, s);
  // An unlimited container's limit is the machine's memory, as dockerd reports it.
  if (host.machine_memory > 0 && s.memory.limit > host.machine_memory)
    s.memory.limit = host.machine_memory;
  if (pid > 0) s.networks = read_networks(host.proc, pid);
  return s;
}

struct StatsService::Follower {
  std::string id;
  StatsEmit emit;
  int64_t preread = 0;
  CpuStats precpu;
};

StatsService::StatsService(ContainerManager& containers, StatsHost host)
    : containers_(containers), host_(std::move(host)) {}

StatsService::~StatsService() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (collector_.joinable()) collector_.join();
}

std::optional<StatsFrame> StatsService::sample(const std::string& id, bool cpu_only,
                                               std::string* run) const {
  Container c;
  try {
    c = containers_.get(id);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound) return std::nullopt;
    throw;
  }
  StatsFrame f{c.id, "/" + c.name, {}, 0, {}};
  if (!c.running()) return f;
  std::string netmode = c.host_config.value("NetworkMode", "");
  bool network = netmode != "host" && !c.config.value("NetworkDisabled", false);
  f.sample = read_stats(host_, cgroups_path(c, SpecPaths().cgroup_parent),
                        network ? c.state.pid : 0, cpu_only);
  if (run) *run = c.state.started_at;
  return f;
}

void StatsService::remember(const std::string& id, const std::string& run,
                            const StatsSample& s) const {
  if (s.read == 0) return;
  int64_t stale = s.read - std::chrono::nanoseconds(kPrecpuMaxAge).count();
  std::lock_guard lk(last_mu_);
  // Those of removed or idle containers go with the next sample of any.
  std::erase_if(last_, [&](auto& e) { return e.second.read < stale; });
  last_[id] = {run, s.read, s.cpu};
}

std::optional<StatsService::LastCpu> StatsService::last_cpu(const std::string& id) const {
  std::lock_guard lk(last_mu_);
  auto it = last_.find(id);
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

void StatsService::once(const std::string& id, bool one_shot, const StatsEmit& emit) const {
  std::string run;
  if (one_shot) {
    if (auto f = sample(id, false, &run)) emit(*f);
    return;
  }
  auto age = [](int64_t read) { return std::chrono::nanoseconds(now_nano() - read); };
  std::optional<LastCpu> prev = last_cpu(id);
  if (prev && age(prev->read) > kPrecpuMaxAge) prev.reset();
  if (prev && age(prev->read) < kPrecpuGap)
    std::this_thread::sleep_for(kPrecpuGap - age(prev->read));
  for (bool cached = prev.has_value();; cached = false) {
    if (!prev) {
      // Of a previous sample only the CPU figures are sent.
      auto first = sample(id, true, &run);
      if (!first) return;
      if (first->sample.read == 0) {
        emit(*first);
        return;
      }
      prev = LastCpu{run, first->sample.read, std::move(first->sample.cpu)};
      std::this_thread::sleep_for(kPrecpuGap);
    }
    auto now = sample(id, false, &run);
    if (!now) return;
    // Counters start again with each run: a sample of an earlier one is no precpu (a
    // restart between the two fresh ones leaves the answer without one).
    bool same_run = run == prev->run;
    if (now->sample.read != 0 && !same_run && cached) {
      prev.reset();
      continue;
    }
    remember(id, run, now->sample);
    if (now->sample.read != 0 && same_run) {
      now->preread = prev->read;
      now->precpu = std::move(prev->cpu);
    }
    emit(*now);
    return;
  }
}

void StatsService::follow(const std::string& id, StatsEmit emit) {
  std::string run;
  auto first = sample(id, false, &run);
  if (!first) return;
  remember(id, run, first->sample);
  if (!emit(*first)) return;
  std::lock_guard lk(mu_);
  followers_.push_back({id, std::move(emit), first->sample.read, std::move(first->sample.cpu)});
  if (!collector_.joinable()) collector_ = std::thread([this] { collect(); });
  cv_.notify_all();
}

void StatsService::collect() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !followers_.empty(); });
    cv_.wait_for(lk, kStreamInterval, [&] { return stopping_; });
    if (stopping_) return;
    // Sampled and sent without the lock, so that a new stream never waits for a pass; those
    // that join meanwhile are in the next one.
    std::vector<Follower> pass = std::move(followers_);
    followers_.clear();
    lk.unlock();
    std::map<std::string, std::optional<StatsFrame>> frames;  // one sample per container
    std::vector<Follower> kept;
    for (auto& f : pass) {
      auto it = frames.find(f.id);
      if (it == frames.end()) {
        std::optional<StatsFrame> frame;
        try {
          std::string run;
          frame = sample(f.id, false, &run);
          if (frame) remember(f.id, run, frame->sample);
        } catch (const std::exception&) {
          frame = StatsFrame{};  // unreadable now: dockerd sends the empty frame
        }
        it = frames.emplace(f.id, std::move(frame)).first;
      }
      // A removed container's streams end, as dockerd's.
      if (!it->second) continue;
      StatsFrame frame = *it->second;
      if (frame.id.empty()) frame.id = f.id;
      frame.preread = f.preread;
      frame.precpu = std::move(f.precpu);
      if (!f.emit(frame)) continue;
      f.preread = frame.sample.read;
      f.precpu = frame.sample.cpu;
      kept.push_back(std::move(f));
    }
    lk.lock();
    for (auto& f : kept) followers_.push_back(std::move(f));
  }
}

}  // namespace berth::engine
