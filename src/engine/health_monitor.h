// Runs containers' healthchecks, as dockerd does: each probe is an exec in the container
// (through its shim), its result goes to State.Health (stored with the container), and a
// change of status is a `health_status: ...` event. One thread and one epoll set serve every
// container: probes are timers and sockets, not a thread or process per container.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/fd.h"
#include "engine/exec.h"
#include "engine/health_state.h"
#include "engine/manager.h"

namespace berth::engine {

class HealthMonitor {
 public:
  // Follows the manager's starts and exits from now on (until it is destroyed).
  static std::shared_ptr<HealthMonitor> create(ContainerManager& containers, ExecManager& execs);
  HealthMonitor(ContainerManager& containers, ExecManager& execs);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // After a daemon restart: the running containers' checks go on from their stored health.
  void restore();

 private:
  using Clock = std::chrono::steady_clock;
  struct Probe;
  struct Entry {
    HealthCheck check;
    ContainerHealth health;
    int64_t started_at_ns = 0;  // the container's StartedAt: the start period counts from it
    Clock::time_point due;
    std::optional<oci::Process> process;  // built at the first probe of this run
    std::unique_ptr<Probe> probe;
  };

  void on_run_change(const Container& c, bool running);
  void track(const Container& c, ContainerHealth health);
  void loop();
  void launch(const std::string& id, Entry& e);
  void on_ready(int fd);
  void finish(const std::string& id, Entry& e, int code, std::string output);
  void drop_probe(Entry& e);
  Clock::duration interval(const Entry& e) const;
  void wake();

  ContainerManager& containers_;
  ExecManager& execs_;
  UniqueFd epoll_, wake_;
  std::mutex mu_;
  bool stopping_ = false;
  std::map<std::string, Entry> entries_;
  std::map<int, std::string> fd_owner_;  // a probe's sockets -> its container
  std::thread thread_;
};

}  // namespace berth::engine
