#include "engine/oom_monitor.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/words.h"

namespace berth::engine {

namespace {

// How long after a v1 notification the counter is read again, and how often.
constexpr auto kRecheckFor = std::chrono::seconds(1);
constexpr int kRecheckMs = 10;

std::optional<std::string> pread_all(int fd) {
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;  // ENODEV: the cgroup was removed
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

void add_to(int epoll, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("oom monitor: epoll_ctl");
}

}  // namespace

std::optional<uint64_t> oom_kill_count(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = std::min(text.find('\n', at), text.size());
    auto w = words(std::string_view(text).substr(at, end - at));
    if (w.size() == 2 && w[0] == "oom_kill") {
      try {
        return std::stoull(std::string(w[1]));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    at = end + 1;
  }
  return std::nullopt;
}

OomMonitor::OomMonitor(StatsHost host, Publish publish)
    : host_(std::move(host)),
      publish_(std::move(publish)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_ || !wake_) throw_errno("oom monitor: epoll");
  add_to(epoll_.get(), wake_.get(), EPOLLIN);
  thread_ = std::thread([this] { loop(); });
}

OomMonitor::~OomMonitor() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void OomMonitor::watch(const std::string& id, const std::string& cgroup_path) {
  Watch w;
  try {
    std::string dir;
    if (host_.v2) {
      dir = path_join(host_.unified, cgroup_path);
    } else if (auto it = host_.v1_mounts.find("memory"); it != host_.v1_mounts.end()) {
      dir = path_join(it->second, cgroup_path);
    } else {
      return;  // no memory controller: no OOM killer of the container's own
    }
    std::string file = dir + (host_.v2 ? "/memory.events" : "/memory.oom_control");
    w.counter = UniqueFd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!w.counter) throw_errno("open " + file);
    if (!host_.v2) {
      w.notify = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      if (!w.notify) throw_errno("oom monitor: eventfd");
      std::string control = dir + "/cgroup.event_control";
      UniqueFd ctl(::open(control.c_str(), O_WRONLY | O_CLOEXEC));
      std::string line = std::to_string(w.notify.get()) + " " + std::to_string(w.counter.get());
      if (!ctl || ::write(ctl.get(), line.data(), line.size()) < 0)
        throw_errno("register an OOM eventfd in " + control);
    }
    auto text = pread_all(w.counter.get());
    if (!text) throw_errno("read " + file);
    w.seen = oom_kill_count(*text).value_or(0);
  } catch (const std::exception& e) {
    // Mostly a run that ended before its watch began (the exit reports its kills).
    log::debug("no live oom events for " + id + ": " + e.what());
    return;
  }
  std::lock_guard lk(mu_);
  int fd = host_.v2 ? w.counter.get() : w.notify.get();
  // v2's memory.events always reads as ready; a change shows as POLLPRI.
  add_to(epoll_.get(), fd, host_.v2 ? EPOLLPRI : EPOLLIN);
  fd_owner_[fd] = id;
  if (auto old = watches_.find(id); old != watches_.end()) {
    fd_owner_.erase(old->second.notify ? old->second.notify.get() : old->second.counter.get());
    watches_.erase(old);
  }
  watches_.emplace(id, std::move(w));
}

uint64_t OomMonitor::forget(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return 0;
  check(id, it->second);
  uint64_t published = it->second.published;
  fd_owner_.erase(it->second.notify ? it->second.notify.get() : it->second.counter.get());
  // Closing the fds takes them out of the epoll set (and unregisters the v1 eventfd).
  watches_.erase(it);
  return published;
}

void OomMonitor::check(const std::string& id, Watch& w) {
  if (!w.counter) return;
  auto text = pread_all(w.counter.get());
  if (!text) {
    // The cgroup is gone: a removed v2 file would poll as ready for ever.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, w.notify ? w.notify.get() : w.counter.get(), nullptr);
    w.recheck_until = {};
    return;
  }
  uint64_t now = oom_kill_count(*text).value_or(w.seen);
  for (; w.seen < now; w.seen++) {
    w.published++;
    try {
      publish_(id);
    } catch (const std::exception& e) {
      log::warn("oom event of " + id + ": " + e.what());
    }
  }
}

void OomMonitor::loop() {
  epoll_event events[32];
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      auto now = Clock::now();
      for (auto& [id, w] : watches_)
        if (w.recheck_until > now) timeout_ms = kRecheckMs;
    }
    int n = ::epoll_wait(epoll_.get(), events, 32, timeout_ms);
    if (n < 0 && errno != EINTR) {
      log::error(std::string("oom monitor: epoll_wait: ") + std::strerror(errno));
      return;
    }
    std::lock_guard lk(mu_);
    if (stopping_) return;
    auto now = Clock::now();
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_.get(), &v, sizeof v);
        continue;
      }
      auto owner = fd_owner_.find(fd);
      if (owner == fd_owner_.end()) continue;
      auto& w = watches_.at(owner->second);
      if (w.notify) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(w.notify.get(), &v, sizeof v);
      }
      w.recheck_until = now + kRecheckFor;
    }
    for (auto& [id, w] : watches_)
      if (w.recheck_until > Clock::time_point{}) {
        check(id, w);
        if (w.recheck_until <= now) w.recheck_until = {};
      }
  }
}

}  // namespace berth::engine
