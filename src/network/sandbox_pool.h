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

namespace berth::network {

struct SpareSandbox {
  std::string netns;  // bound namespace file
  std::string veth;   // host end, attached to the pool's bridge; the peer is "eth0", down
};

class SandboxPool {
 public:
  // Spares live in `dir` as spare-<hex> files; ones a previous daemon left are removed first.
  // Their veths are attached to `bridge` (the default network's, where most containers go)
  // with `mtu`.
  SandboxPool(std::string dir, size_t size, std::string bridge, int mtu);
  // Removes the spares left.
  ~SandboxPool();
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // A ready spare, or none when the pool is empty (the caller makes its own then).
  std::optional<SpareSandbox> take();

 private:
  void run();

  std::string dir_;
  size_t size_;
  std::string bridge_;
  int mtu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SpareSandbox> spares_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::network
