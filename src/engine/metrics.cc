#include "engine/metrics.h"

#include "base/log.h"
#include "engine/manager.h"
#include "engine/spec_builder.h"

namespace berth::engine {

EngineMetrics::EngineMetrics(ContainerManager& containers, EventBus& events, StatsHost host)
    : containers_(containers), events_(events), host_(std::move(host)) {
  follower_ = std::thread([this] { count_events(); });
}

EngineMetrics::~EngineMetrics() {
  stopping_ = true;
  follower_.join();
}

void EngineMetrics::count_events() {
  try {
    events_.follow(
        now_nano(), 0,
        [this](const Event& e) {
          std::lock_guard lk(mu_);
          if (e.type == "image" && e.action == "pull") pulls_++;
          if (e.type == "container" && e.action == "oom") ooms_[e.id]++;
          if (e.type == "container" && e.action == "destroy") ooms_.erase(e.id);
          return true;
        },
        [this] { return !stopping_; });
  } catch (const std::exception& e) {
    log::error(std::string("metrics: the event stream failed: ") + e.what());
  }
}

void EngineMetrics::write(MetricsText& out) const {
  auto all = containers_.list();
  uint64_t running = 0, paused = 0;
  for (auto& c : all) {
    running += c.state.status == State::kRunning;
    paused += c.state.status == State::kPaused;
  }
  // dockerd's own family, with its three states.
  out.family("engine_daemon_container_states_containers", "gauge",
             "The count of containers in various states");
  out.sample("engine_daemon_container_states_containers", {{"state", "running"}},
             static_cast<double>(running));
  out.sample("engine_daemon_container_states_containers", {{"state", "paused"}},
             static_cast<double>(paused));
  out.sample("engine_daemon_container_states_containers", {{"state", "stopped"}},
             static_cast<double>(all.size() - running - paused));
  std::map<std::string, uint64_t> ooms;
  {
    std::lock_guard lk(mu_);
    out.family("berth_image_pulls_total", "counter", "Images pulled since berthd started");
    out.sample("berth_image_pulls_total", {}, static_cast<double>(pulls_));
    ooms = ooms_;
  }

  auto labels = [](const Container& c) -> MetricLabels {
    return {{"name", c.name}, {"id", c.id}, {"image", c.config.value("Image", "")}};
  };
  auto each = [&](const char* name, const char* type, const char* help, auto value) {
    out.family(name, type, help);
    for (auto& c : all) value(c, labels(c));
  };
  each("container_oom_events_total", "counter",
       "OOM kills of the container's processes since berthd started",
       [&](const Container& c, const MetricLabels& l) {
         auto it = ooms.find(c.id);
         out.sample("container_oom_events_total", l,
                    static_cast<double>(it == ooms.end() ? 0 : it->second));
       });
  each("berth_container_restarts_total", "counter",
       "Restarts of the container by its restart policy (inspect's RestartCount)",
       [&](const Container& c, const MetricLabels& l) {
         out.sample("berth_container_restarts_total", l, c.state.restart_count);
       });

  // The cgroup figures exist while a container runs: one sample of each.
  std::vector<std::pair<const Container*, StatsSample>> live;
  for (auto& c : all) {
    if (!c.running()) continue;
    std::string netmode = c.host_config.value("NetworkMode", "");
    bool network = netmode != "host" && !c.config.value("NetworkDisabled", false);
    try {
      live.emplace_back(&c, read_stats(host_, cgroups_path(c, SpecPaths().cgroup_parent),
                                       network ? c.state.pid : 0));
    } catch (const std::exception& e) {
      log::debug("metrics of " + c.id + ": " + e.what());
    }
  }
  auto per_live = [&](const char* name, const char* type, const char* help, auto value) {
    out.family(name, type, help);
    for (auto& [c, s] : live) value(labels(*c), s);
  };
  constexpr double kNs = 1e9;
  per_live("container_cpu_usage_seconds_total", "counter", "CPU time consumed",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_cpu_usage_seconds_total", l, s.cpu.total_usage / kNs);
           });
  per_live("container_cpu_user_seconds_total", "counter", "CPU time consumed in user mode",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_cpu_user_seconds_total", l, s.cpu.usage_in_usermode / kNs);
           });
  per_live("container_cpu_system_seconds_total", "counter", "CPU time consumed in kernel mode",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_cpu_system_seconds_total", l, s.cpu.usage_in_kernelmode / kNs);
           });
  per_live("container_cpu_cfs_throttled_seconds_total", "counter",
           "Time the container was throttled by its CPU quota",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_cpu_cfs_throttled_seconds_total", l, s.cpu.throttled_time / kNs);
           });
  per_live("container_memory_usage_bytes", "gauge", "Memory in use, page cache included",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_memory_usage_bytes", l, static_cast<double>(s.memory.usage));
           });
  out.family("container_spec_memory_limit_bytes", "gauge",
             "The container's memory limit (-m), 0 for none");
  for (auto& [c, s] : live)
    out.sample("container_spec_memory_limit_bytes", labels(*c),
               static_cast<double>(c->host_config.value("Memory", int64_t{0})));
  per_live("container_processes", "gauge", "Processes and threads in the container",
           [&](const MetricLabels& l, const StatsSample& s) {
             out.sample("container_processes", l, static_cast<double>(s.pids_current));
           });
  auto net = [&](const char* name, const char* help, uint64_t NetworkStats::*field) {
    per_live(name, "counter", help, [&](const MetricLabels& l, const StatsSample& s) {
      for (auto& [dev, n] : s.networks) {
        MetricLabels with = l;
        with.emplace_back("interface", dev);
        out.sample(name, with, static_cast<double>(n.*field));
      }
    });
  };
  net("container_network_receive_bytes_total", "Bytes received", &NetworkStats::rx_bytes);
  net("container_network_receive_packets_total", "Packets received", &NetworkStats::rx_packets);
  net("container_network_transmit_bytes_total", "Bytes sent", &NetworkStats::tx_bytes);
  net("container_network_transmit_packets_total", "Packets sent", &NetworkStats::tx_packets);
  per_live("container_blkio_device_usage_total", "counter",
           "Bytes read and written by the container, by device and operation",
           [&](const MetricLabels& l, const StatsSample& s) {
             if (!s.blkio.service_bytes) return;
             for (auto& e : *s.blkio.service_bytes) {
               if (e.op == "Total" || e.op == "total") continue;
               MetricLabels with = l;
               with.emplace_back("device", std::to_string(e.major) + ":" + std::to_string(e.minor));
               with.emplace_back("major", std::to_string(e.major));
               with.emplace_back("minor", std::to_string(e.minor));
               with.emplace_back("operation", e.op);
               out.sample("container_blkio_device_usage_total", with, static_cast<double>(e.value));
             }
           });
}

}  // namespace berth::engine
