// Live `oom` events, as dockerd gives them: one as soon as the kernel's OOM killer kills a
// process in a container's memory cgroup, even when the container goes on running (a child
// killed, PID 1 alive). One thread and one epoll set watch every running container: on
// cgroup v1 an eventfd registered on memory.oom_control (cgroup.event_control), on cgroup v2
// memory.events itself (the kernel marks it changed). The oom_kill counter of those files
// says how many kills there were, so that each kill is published once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/fd.h"
#include "engine/container_stats.h"

namespace berth::engine {

class OomMonitor {
 public:
  // `publish` is called once per kill with the container's id, from the monitor's thread or
  // from forget(), never from two threads at once.
  using Publish = std::function<void(const std::string& id)>;
  OomMonitor(StatsHost host, Publish publish);
  ~OomMonitor();
  OomMonitor(const OomMonitor&) = delete;
  OomMonitor& operator=(const OomMonitor&) = delete;

  // Watches the running container's memory cgroup (linux.cgroupsPath) from now on; kills
  // before this call are not published (forget's caller reports them). A cgroup that cannot
  // be watched (gone, no memory controller) is left alone.
  void watch(const std::string& id, const std::string& cgroup_path);
  // Stops watching after the container's exit, publishing first what its cgroup still shows;
  // returns how many kills were published for this run.
  uint64_t forget(const std::string& id);

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {
    UniqueFd counter;  // the file with the oom_kill line, read again at each notification
    UniqueFd notify;   // v1: the eventfd the kernel signals; v2: none (counter is polled)
    uint64_t seen = 0;
    uint64_t published = 0;
    // v1 signals as the cgroup goes out of memory, just before the killer picks a victim:
    // the counter is read again until then.
    Clock::time_point recheck_until{};
  };

  void loop();
  void check(const std::string& id, Watch& w);

  StatsHost host_;
  Publish publish_;
  UniqueFd epoll_, wake_;
  std::mutex mu_;
  bool stopping_ = false;
  std::map<std::string, Watch> watches_;
  std::map<int, std::string> fd_owner_;  // the fd epoll reports -> its container
  std::thread thread_;
};

// The "oom_kill N" count of a memory.oom_control (v1) or memory.events (v2) text, if any.
std::optional<uint64_t> oom_kill_count(const std::string& text);

}  // namespace berth::engine
