// Deletes links in the background: the kernel takes tens of milliseconds to unregister a
// veth (it waits for RCU grace periods), and a container's exit or removal need not wait.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::network {

class LinkReaper {
 public:
  LinkReaper();
  // Deletes what is still queued before it returns.
  ~LinkReaper();
  LinkReaper(const LinkReaper&) = delete;
  LinkReaper& operator=(const LinkReaper&) = delete;

  void remove(std::string link);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::network
