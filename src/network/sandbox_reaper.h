// Removes what a container's network leaves behind, in the background: unregistering a veth
// makes the kernel wait for RCU grace periods, and unmounting a namespace file for another,
// each about a millisecond that a container's exit or removal need not wait for.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "network/quiet_period.h"

namespace berth::network {

struct Leftovers {
  std::vector<std::string> links;  // host ends of veths: deleting one deletes its peer
  std::string netns;               // a bound namespace file, or empty
  // Runs once the links are gone, on the reaper's thread: their addresses can be handed out
  // again (until then the old peer would answer ARP for them).
  std::function<void()> done;
};

class SandboxReaper {
 public:
  // Works when `quiet` says no container is starting or exiting, or when what is queued has
  // waited long enough (the old links hold their addresses back till then).
  explicit SandboxReaper(const QuietPeriod& quiet);
  // Removes what is still queued before it returns.
  ~SandboxReaper();
  SandboxReaper(const SandboxReaper&) = delete;
  SandboxReaper& operator=(const SandboxReaper&) = delete;

  void remove(Leftovers what);
  // Someone waits for the addresses of what is queued: no more waiting for quiet.
  void hurry();

 private:
  void run();

  const QuietPeriod& quiet_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Leftovers> queue_;
  bool stopping_ = false, hurry_ = false;
  std::thread thread_;
};

}  // namespace berth::network
