// berthd's Prometheus metrics (metrics-addr): the engine's (containers by state, image pulls)
// and each container's, read from its cgroups and network namespace at scrape time, under
// cAdvisor's names and labels (name, id, image), so that what the seeds read from cAdvisor
// reads the same from berthd. The API's request metrics are api/'s.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "engine/container_stats.h"
#include "engine/events.h"
#include "engine/metrics_text.h"

namespace berth::engine {

class ContainerManager;

class EngineMetrics {
 public:
  EngineMetrics(ContainerManager& containers, EventBus& events, StatsHost host);
  ~EngineMetrics();
  EngineMetrics(const EngineMetrics&) = delete;
  EngineMetrics& operator=(const EngineMetrics&) = delete;

  // Appends the engine's and every container's metrics as they are now.
  void write(MetricsText& out) const;

 private:
  // Counts what only events tell (pulls, OOM kills) from the daemon's event stream.
  void count_events();

  ContainerManager& containers_;
  EventBus& events_;
  StatsHost host_;
  mutable std::mutex mu_;
  uint64_t pulls_ = 0;
  std::map<std::string, uint64_t> ooms_;  // by container id, until it is destroyed
  std::atomic<bool> stopping_{false};
  std::thread follower_;
};

}  // namespace berth::engine
