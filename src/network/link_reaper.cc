#include "network/link_reaper.h"

#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"
#include "network/netlink.h"

namespace berth::network {

LinkReaper::LinkReaper() : thread_([this] { run(); }) {}

LinkReaper::~LinkReaper() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LinkReaper::remove(std::string link) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(link));
  }
  cv_.notify_all();
}

void LinkReaper::run() {
  // Deleting a veth keeps the kernel busy for ~25 ms: containers starting meanwhile come first.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    std::vector<std::string> batch;
    batch.swap(queue_);
    lk.unlock();
    try {
      Netlink nl;
      for (auto& name : batch) {
        try {
          nl.delete_link(name);
        } catch (const std::exception& e) {
          log::warn(e.what());
        }
      }
    } catch (const std::exception& e) {
      log::warn(std::string("link reaper: ") + e.what());
    }
    lk.lock();
  }
}

}  // namespace berth::network
