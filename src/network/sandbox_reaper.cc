#include "network/sandbox_reaper.h"

#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace berth::network {

SandboxReaper::SandboxReaper(const QuietPeriod& quiet)
    : quiet_(quiet), thread_([this] { run(); }) {}

SandboxReaper::~SandboxReaper() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SandboxReaper::remove(Leftovers what) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(what));
  }
  cv_.notify_all();
}

void SandboxReaper::hurry() {
  {
    std::lock_guard lk(mu_);
    hurry_ = true;
  }
  cv_.notify_all();
}

void SandboxReaper::run() {
  // Containers starting meanwhile come first.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    // At shutdown, or when hurried, what is queued goes at once.
    auto latest = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
    while (!stopping_ && !hurry_) {
      auto until = std::min(latest, quiet_.ends());
      if (until <= std::chrono::steady_clock::now()) break;
      cv_.wait_until(lk, until);
    }
    hurry_ = false;
    std::vector<Leftovers> batch;
    batch.swap(queue_);
    lk.unlock();
    try {
      Netlink nl;
      for (auto& job : batch) {
        for (auto& link : job.links) {
          try {
            nl.delete_link(link);
          } catch (const std::exception& e) {
            log::warn(e.what());
          }
        }
      }
    } catch (const std::exception& e) {
      log::warn(std::string("sandbox reaper: ") + e.what());
    }
    for (auto& job : batch) {
      if (job.done) job.done();
      try {
        if (!job.netns.empty()) remove_netns(job.netns);
      } catch (const std::exception& e) {
        log::warn(e.what());
      }
    }
    lk.lock();
  }
}

}  // namespace berth::network
