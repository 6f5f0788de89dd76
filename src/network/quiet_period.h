// When background plumbing may run. Making a spare namespace or deleting a veth takes kernel
// locks (rtnl, the mount lock) and waits for RCU grace periods; a container starting or
// exiting at that moment waits behind them, which on a machine of two cores was most of what
// a network added to its start. So that work waits until no container has started or exited
// for a short while: about the time a start takes, from its network set-up to its process
// running.
#pragma once

#include <atomic>
#include <chrono>

namespace berth::network {

class QuietPeriod {
 public:
  using Clock = std::chrono::steady_clock;
  explicit QuietPeriod(std::chrono::milliseconds length) : length_(length) {}

  // A container is starting or has exited.
  void touch() { last_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
  // When background work may go: the length after the last touch.
  Clock::time_point ends() const {
    return Clock::time_point(Clock::duration(last_.load(std::memory_order_relaxed))) + length_;
  }

 private:
  std::chrono::milliseconds length_;
  std::atomic<Clock::rep> last_{0};
};

}  // namespace berth::network
