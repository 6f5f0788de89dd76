#include "engine/events.h"

#include <algorithm>
#include <ctime>

namespace berth::engine {

int64_t now_nano() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void EventBus::publish(Event e) {
  if (e.time_nano == 0) e.time_nano = now_nano();
  {
    std::lock_guard lk(mu_);
    history_.push_back(std::move(e));
    if (history_.size() > limit_) history_.pop_front();
    seq_++;
  }
  cv_.notify_all();
}

void EventBus::follow(int64_t since_nano, int64_t until_nano,
                      const std::function<bool(const Event&)>& fn,
                      const std::function<bool()>& keep_going) {
  std::unique_lock lk(mu_);
  // Position in the sequence of all events: history_ holds [seq_ - size, seq_).
  uint64_t next = seq_ - history_.size();
  for (;;) {
    uint64_t first = seq_ - history_.size();
    if (next < first) next = first;
    while (next < seq_) {
      Event e = history_[next - first];
      next++;
      if (until_nano && e.time_nano > until_nano) return;
      if (e.time_nano <= since_nano) continue;
      lk.unlock();
      bool more = fn(e);
      lk.lock();
      if (!more) return;
      first = seq_ - history_.size();
      if (next < first) next = first;
    }
    if (until_nano && now_nano() > until_nano) return;
    uint64_t seen = seq_;
    int64_t wait_ns = 1000000000;
    if (until_nano) wait_ns = std::clamp<int64_t>(until_nano - now_nano(), 0, wait_ns);
    cv_.wait_for(lk, std::chrono::nanoseconds(wait_ns), [&] { return seq_ != seen; });
    if (seq_ == seen) {
      lk.unlock();
      bool alive = keep_going();
      lk.lock();
      if (!alive) return;
    }
  }
}

}  // namespace berth::engine
