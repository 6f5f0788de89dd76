// The daemon's event stream (`/events`): every change is published here, kept in a bounded
// history for `--since`, and handed to each subscriber as it happens.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace berth::engine {

struct Event {
  std::string type;    // "image", "container", "network", "volume", "daemon"
  std::string action;  // "tag", "untag", "delete", "import", "load", "save", "create", ...
  std::string id;      // the actor's id
  std::map<std::string, std::string> attributes;
  int64_t time_nano = 0;
};

class EventBus {
 public:
  explicit EventBus(size_t history = 1024) : limit_(history) {}

  void publish(Event e);
  // Calls `fn` with every event after `since_nano` (from the history, then as they come),
  // until `fn` returns false, `until_nano` passes (0: never) or `keep_going` returns false.
  // `keep_going` is asked at least once a second while nothing happens.
  void follow(int64_t since_nano, int64_t until_nano, const std::function<bool(const Event&)>& fn,
              const std::function<bool()>& keep_going);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> history_;
  uint64_t seq_ = 0;  // number of events ever published
  size_t limit_;
};

int64_t now_nano();

}  // namespace berth::engine
