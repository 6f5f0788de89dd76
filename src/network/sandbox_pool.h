// Network namespaces made ahead of need, each with a veth whose peer is already eth0 inside:
// creating a namespace and a veth pair costs the kernel about 2 ms, which a container's
// start should not wait for. A thread keeps a few spares ready.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "network/netlink.h"
#include "network/quiet_period.h"

namespace berth::network {

struct SpareSandbox {
  std::string netns;  // bound namespace file
  std::string veth;   // host end, attached to bridge() with its MTU, up
  Netlink inside;     // a route socket in the namespace
  int peer = 0;       // ifindex of the peer, "eth0": up with that MTU, no address yet
};

class SandboxPool {
 public:
  // Spares live in `dir` as spare-<hex> files (the caller removes a previous daemon's first).
  // Their veths are attached to `bridge` (the default network's, where most containers go)
  // with `mtu`.
  // Spares are made when `quiet` says no container is starting.
  SandboxPool(std::string dir, size_t size, std::string bridge, int mtu, const QuietPeriod& quiet);
  // Removes the spares left.
  ~SandboxPool();
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // A ready spare, or none when the pool is empty (the caller makes its own then).
  std::optional<SpareSandbox> take();
  const std::string& bridge() const { return bridge_; }
  int mtu() const { return mtu_; }

 private:
  void run();

  std::string dir_;
  size_t size_;
  std::string bridge_;
  int mtu_;
  const QuietPeriod& quiet_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SpareSandbox> spares_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::network
