#include "network/sandbox_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

#include "base/log.h"
#include "network/manager_state.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace berth::network {

SandboxPool::SandboxPool(std::string dir, size_t size, std::string bridge, int mtu,
                         const QuietPeriod& quiet)
    : dir_(std::move(dir)), size_(size), bridge_(std::move(bridge)), mtu_(mtu), quiet_(quiet) {
  thread_ = std::thread([this] { run(); });
}

SandboxPool::~SandboxPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& s : spares_) remove_netns(s.netns);
}

std::optional<SpareSandbox> SandboxPool::take() {
  std::lock_guard lk(mu_);
  if (spares_.empty()) return std::nullopt;
  SpareSandbox s = std::move(spares_.back());
  spares_.pop_back();
  cv_.notify_all();
  return s;
}

void SandboxPool::run() {
  // Spares are made while other work runs: they should take what CPU it leaves.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || spares_.size() < size_; });
    if (stopping_) return;
    if (auto at = quiet_.ends(); at > std::chrono::steady_clock::now()) {
      cv_.wait_until(lk, at);
      continue;
    }
    lk.unlock();
    std::string id = random_hex_id();
    std::string netns = dir_ + "/spare-" + id.substr(0, 16), veth = "vb" + id.substr(16, 11);
    std::optional<SpareSandbox> spare;
    try {
      create_netns(netns);
      UniqueFd fd = open_netns(netns);
      Netlink host;
      host.create_veth(veth, fd.get(), "eth0");
      host.attach_veth(veth, bridge_, mtu_);
      Netlink inside(fd.get());
      int peer = inside.link_index("eth0");
      inside.set_up(peer, mtu_, "eth0");
      spare = SpareSandbox{netns, veth, std::move(inside), peer};
    } catch (const std::exception& e) {
      remove_netns(netns);
      log::warn(std::string("could not make a spare network namespace: ") + e.what());
    }
    lk.lock();
    if (spare) {
      spares_.push_back(std::move(*spare));
    } else {
      // Not in a loop as fast as the kernel refuses: containers make their own meanwhile.
      cv_.wait_for(lk, std::chrono::seconds(5), [&] { return stopping_; });
    }
  }
}

}  // namespace berth::network
