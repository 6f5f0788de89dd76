#include "engine/health_monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "base/unix_address.h"
#include "engine/events.h"
#include "engine/names.h"

namespace berth::engine {

using nlohmann::json;

// One probe in flight: the request on the shim's socket, the output on a socket pair.
struct HealthMonitor::Probe {
  std::string exec_id;
  std::string command;  // for the exec events: "/bin/sh -c curl -f localhost"
  UniqueFd shim;
  std::string replies;   // what the shim has said so far, line by line
  bool running = false;  // the shim answered the exec request
  UniqueFd output;
  std::string out;
  UniqueFd pidfd;                      // to kill a probe past its timeout
  std::optional<Container> container;  // as it was at the launch: for the events' attributes
  std::string start;
  Clock::time_point deadline;
};

namespace {

void set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw_errno("fcntl O_NONBLOCK");
}

UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  UnixAddress a = unix_address(path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) < 0)
    throw_errno("connect to shim " + path);
  return fd;
}

// Reads what is there; false at the end of the stream.
bool read_available(int fd, std::string& into, size_t limit) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) return false;
    // Past the limit the output is read and dropped: the probe must never block on it.
    if (into.size() < limit) into.append(buf, std::min<size_t>(n, limit - into.size()));
  }
}

std::optional<Container> find_container(ContainerManager& containers, const std::string& id) {
  try {
    return containers.get(id);
  } catch (const NotFound&) {
    return std::nullopt;
  }
}

std::string joined(const std::vector<std::string>& cmd) {
  std::string s;
  for (auto& a : cmd) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

std::shared_ptr<HealthMonitor> HealthMonitor::create(ContainerManager& containers,
                                                     ExecManager& execs) {
  auto m = std::make_shared<HealthMonitor>(containers, execs);
  // Weak: a manager thread that reports an exit after the monitor is gone reports to nobody.
  containers.set_run_observer([w = std::weak_ptr<HealthMonitor>(m)](const Container& c, bool run) {
    if (auto self = w.lock()) self->on_run_change(c, run);
  });
  return m;
}

HealthMonitor::HealthMonitor(ContainerManager& containers, ExecManager& execs)
    : containers_(containers),
      execs_(execs),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_ || !wake_) throw_errno("health monitor: epoll");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) < 0)
    throw_errno("health monitor: epoll_ctl");
  thread_ = std::thread([this] { loop(); });
}

HealthMonitor::~HealthMonitor() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
}

void HealthMonitor::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void HealthMonitor::restore() {
  for (auto& c : containers_.list()) {
    if (!c.running() || !health_check_of(c.config)) continue;
    std::lock_guard lk(mu_);
    if (!entries_.count(c.id)) track(c, c.state.health.value_or(ContainerHealth{}));
  }
  wake();
}

void HealthMonitor::on_run_change(const Container& c, bool running) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(c.id);
  std::optional<ContainerHealth> health = c.state.health;
  if (it != entries_.end()) {
    health = it->second.health;
    drop_probe(it->second);
    entries_.erase(it);
  }
  if (running) {
    if (!health_check_of(c.config)) return;
    // Each start begins "starting" again, with the results of earlier runs kept.
    ContainerHealth h = health.value_or(ContainerHealth{});
    h.status = kHealthStarting;
    h.failing_streak = 0;
    containers_.set_health(c.id, h);
    track(c, std::move(h));
    wake();
  } else if (health && health->status != kHealthUnhealthy) {
    // As dockerd: a container whose checks stopped is unhealthy (without an event).
    health->status = kHealthUnhealthy;
    containers_.set_health(c.id, health);
  }
}

void HealthMonitor::track(const Container& c, ContainerHealth health) {
  Entry e;
  e.check = *health_check_of(c.config);
  e.health = std::move(health);
  e.started_at_ns = parse_rfc3339(c.state.started_at).value_or(0);
  auto [it, _] = entries_.insert_or_assign(c.id, std::move(e));
  it->second.due = Clock::now() + interval(it->second);
}

HealthMonitor::Clock::duration HealthMonitor::interval(const Entry& e) const {
  // dockerd's start interval: while the container starts (within its start period and not
  // yet healthy), probes come at StartInterval, then at Interval.
  bool early =
      now_nano() - e.started_at_ns < e.check.start_period_ns && e.health.status == kHealthStarting;
  return std::chrono::nanoseconds(early ? e.check.start_interval_ns : e.check.interval_ns);
}

void HealthMonitor::drop_probe(Entry& e) {
  if (!e.probe) return;
  execs_.remove_probe(e.probe->exec_id);
  if (e.probe->shim) fd_owner_.erase(e.probe->shim.get());
  if (e.probe->output) fd_owner_.erase(e.probe->output.get());
  // Closing the fds takes them out of the epoll set.
  e.probe.reset();
}

void HealthMonitor::launch(const std::string& id, Entry& e) {
  auto p = std::make_unique<Probe>();
  p->start = now_rfc3339();
  p->deadline = Clock::now() + std::chrono::nanoseconds(e.check.timeout_ns);
  p->exec_id = random_id();
  std::optional<Container> c;
  try {
    c = containers_.get(id);
    std::vector<std::string> cmd = e.check.command(c->config);
    p->command = joined(cmd);
    if (c->state.status == State::kPaused)
      throw Conflict("Container " + id + " is paused, unpause the container before exec");
    if (!e.process) e.process = execs_.probe_process(*c, cmd);
    containers_.event(*c, "exec_create: " + p->command, {{"execID", p->exec_id}});
    p->shim = connect_unix(path_join(containers_.bundle_path(id), "shim.sock"));
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
      throw_errno("socketpair for a health probe");
    p->output.reset(pair[0]);
    UniqueFd theirs(pair[1]);
    // Raw without a terminal: stdout and stderr together, unframed, as dockerd's probe
    // output holds them.
    shim::ExecRequest req;
    req.exec_id = p->exec_id;
    req.process = *e.process;
    req.stdout = req.stderr = true;
    req.raw = true;
    std::string line = shim::encode(req) + "\n";
    size_t n = send_fd(p->shim.get(), line, theirs.get(), MSG_NOSIGNAL, "send to shim");
    if (n < line.size()) write_all(p->shim.get(), std::string_view(line).substr(n));
    set_nonblocking(p->shim.get());
    set_nonblocking(p->output.get());
    for (int fd : {p->shim.get(), p->output.get()}) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
        throw_errno("health monitor: epoll_ctl");
      fd_owner_[fd] = id;
    }
    execs_.add_probe(p->exec_id, id, cmd);
    p->container = std::move(c);
    e.probe = std::move(p);
  } catch (const std::exception& ex) {
    // dockerd records a probe that could not run as exit code -1 with the error.
    e.probe = std::move(p);
    finish(id, e, -1, ex.what());
  }
}

void HealthMonitor::on_ready(int fd) {
  auto owner = fd_owner_.find(fd);
  if (owner == fd_owner_.end()) return;
  std::string id = owner->second;
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.probe) return;
  Entry& e = it->second;
  Probe& p = *e.probe;
  if (fd == p.output.get()) {
    if (!read_available(fd, p.out, kHealthOutputLimit)) {
      fd_owner_.erase(fd);
      p.output.reset();
    }
    return;
  }
  bool open = read_available(fd, p.replies, 1 << 16);
  for (auto nl = p.replies.find('\n'); nl != std::string::npos; nl = p.replies.find('\n')) {
    json reply = json::parse(p.replies.substr(0, nl), nullptr, false);
    p.replies.erase(0, nl + 1);
    if (reply.is_object() && reply.contains("error")) {
      std::string why = reply["error"].is_string() ? reply["error"].get<std::string>() : "";
      finish(id, e, -1,
             "OCI runtime exec failed: exec failed: unable to start container process: " + why +
                 ": unknown");
      return;
    }
    if (!p.running) {
      p.running = true;
      if (pid_t pid = shim::started_of(reply).pid; pid > 0)
        p.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
      containers_.event(*p.container, "exec_start: " + p.command, {{"execID", p.exec_id}});
      std::string wait = shim::encode(shim::ExecWaitRequest{p.exec_id}) + "\n";
      try {
        write_all(fd, wait);
      } catch (const std::exception& ex) {
        finish(id, e, -1, ex.what());
        return;
      }
      continue;
    }
    int code = reply.contains("exit") ? reply["exit"].value("code", -1) : -1;
    // The shim answers once the output is closed: what is left is in the socket now.
    if (p.output) read_available(p.output.get(), p.out, kHealthOutputLimit);
    finish(id, e, code, std::move(p.out));
    return;
  }
  if (!open) finish(id, e, -1, "the container's shim closed its connection");
}

void HealthMonitor::finish(const std::string& id, Entry& e, int code, std::string output) {
  HealthResult r{e.probe ? e.probe->start : now_rfc3339(), now_rfc3339(), code, std::move(output)};
  std::string exec_id = e.probe ? e.probe->exec_id : "";
  bool ran = e.probe && e.probe->running;
  std::optional<Container> c = e.probe ? std::move(e.probe->container) : std::nullopt;
  drop_probe(e);
  std::string before = e.health.status;
  if (code == 0) {
    e.health.failing_streak = 0;
    e.health.status = kHealthHealthy;
  } else {
    // Failures while the container starts (never healthy yet, within its start period) do
    // not count, as dockerd's.
    int64_t since_start = parse_rfc3339(r.start).value_or(0) - e.started_at_ns;
    if (!(e.health.status == kHealthStarting && since_start < e.check.start_period_ns)) {
      e.health.failing_streak++;
      if (e.health.failing_streak >= e.check.retries) e.health.status = kHealthUnhealthy;
    }
  }
  e.health.log.push_back(std::move(r));
  while (e.health.log.size() > kHealthLogEntries) e.health.log.pop_front();
  containers_.set_health(id, e.health);
  e.due = Clock::now() + interval(e);
  if (!c) c = find_container(containers_, id);
  if (c) {
    if (ran)
      containers_.event(*c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(code)}});
    if (e.health.status != before) containers_.event(*c, "health_status: " + e.health.status);
  }
}

void HealthMonitor::loop() {
  epoll_event events[64];
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      auto now = Clock::now();
      std::optional<Clock::time_point> next;
      for (auto& [id, e] : entries_) {
        auto t = e.probe ? e.probe->deadline : e.due;
        if (!next || t < *next) next = t;
      }
      if (next) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
        timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
      }
    }
    int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
    if (n < 0 && errno != EINTR) {
      log::error(std::string("health monitor: epoll_wait: ") + std::strerror(errno));
      return;
    }
    std::lock_guard lk(mu_);
    if (stopping_) return;
    for (int i = 0; i < n; i++) {
      if (events[i].data.fd == wake_.get()) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_.get(), &v, sizeof v);
        continue;
      }
      try {
        on_ready(events[i].data.fd);
      } catch (const std::exception& ex) {
        log::warn(std::string("health probe: ") + ex.what());
      }
    }
    auto now = Clock::now();
    for (auto& [id, e] : entries_) {
      try {
        if (e.probe && e.probe->deadline <= now) {
          if (e.probe->pidfd)
            ::syscall(SYS_pidfd_send_signal, e.probe->pidfd.get(), SIGKILL, nullptr, 0);
          finish(id, e, -1,
                 "Health check exceeded timeout (" + go_duration_string(e.check.timeout_ns) + ")");
        } else if (!e.probe && e.due <= now) {
          launch(id, e);
        }
      } catch (const std::exception& ex) {
        log::warn("health check of " + id + ": " + ex.what());
        drop_probe(e);
        e.due = now + interval(e);
      }
    }
  }
}

}  // namespace berth::engine
