#include "network/sandbox_pool.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

#include "base/log.h"
#include "network/manager_state.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace berth::network {

SandboxPool::SandboxPool(std::string dir, size_t size, std::string bridge, int mtu)
    : dir_(std::move(dir)), size_(size), bridge_(std::move(bridge)), mtu_(mtu) {
  if (DIR* d = ::opendir(dir_.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).rfind("spare-", 0) == 0) stale.push_back(e->d_name);
    ::closedir(d);
    // The veth's peer goes with its namespace, and the host end with its peer.
    for (auto& name : stale) remove_netns(dir_ + "/" + name);
  }
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
  // Spares are made while containers start: they should take what CPU those leave.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || spares_.size() < size_; });
    if (stopping_) return;
    lk.unlock();
    std::string id = random_hex_id();
    SpareSandbox s{dir_ + "/spare-" + id.substr(0, 16), "vb" + id.substr(16, 11)};
    bool made = false;
    try {
      create_netns(s.netns);
      UniqueFd fd = open_netns(s.netns);
      Netlink nl;
      nl.create_veth(s.veth, fd.get(), "eth0");
      nl.attach_veth(s.veth, bridge_, mtu_);
      made = true;
    } catch (const std::exception& e) {
      remove_netns(s.netns);
      log::warn(std::string("could not make a spare network namespace: ") + e.what());
    }
    lk.lock();
    if (made) {
      spares_.push_back(std::move(s));
    } else {
      // Not in a loop as fast as the kernel refuses: containers make their own meanwhile.
      cv_.wait_for(lk, std::chrono::seconds(5), [&] { return stopping_; });
    }
  }
}

}  // namespace berth::network
