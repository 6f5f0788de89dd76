// The event loop: one thread, one epoll set over the signalfd, the listening socket,
// berthd's connections, the attached clients and the container's stdio.
#include "shim/shim.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/fs.h"
#include "base/lock_file.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/time.h"
#include "logfile/config.h"
#include "logfile/writer.h"
#include "runtime/oci_runtime.h"
#include "shim/attach.h"
#include "shim/control.h"
#include "shim/exec_session.h"
#include "shim/exit_status.h"
#include "shim/protocol.h"
#include "shim/stdio.h"

namespace berth::shim {
namespace {

// While this much stdin waits for the container, clients are not read: the container sets
// the pace of its input, and the shim's memory stays bounded.
constexpr size_t kMaxStdinBuffer = 1 << 20;
// After the exit, how long slow clients and berthd get to take their last bytes.
constexpr std::chrono::seconds kExitGrace{5};

using nlohmann::json;

class Shim final : private ExecLoop {
 public:
  explicit Shim(const Options& opts)
      : o_(opts),
        rt_(runtime::open_runtime(
            {opts.runtime_binary, opts.runtime_args, opts.runtime_root, opts.state_dir})) {}

  // Creates the container and everything the loop serves; throws the message for the
  // ready line. Returns the container's pid.
  pid_t create();
  void serve();

 private:
  void setup_loop();
  void watch(int fd, uint32_t events);
  void unwatch(int fd);
  void retire(UniqueFd& fd);
  void dispatch(int fd, uint32_t events);

  void on_signal();
  void reap();
  void on_exit(int wait_status);
  void terminate();

  bool read_output(UniqueFd& src, Stream stream);
  void drain_output();
  void deliver(Stream stream, std::string_view data);

  int stdin_fd() const { return o_.tty ? pty_.get() : stdin_.get(); }
  void feed_stdin(std::string_view data);
  void flush_stdin();
  void end_stdin();
  void close_stdin();
  void watch_stdin();
  void watch_client(AttachClient& c);

  void accept_connections();
  void on_control(ControlConn& c, uint32_t events);
  void process_requests(ControlConn& c);
  std::optional<json> handle(ControlConn& c, const Request& req);
  void on_client(AttachClient& c, uint32_t events);
  void drop_client(int fd);
  void drop_conn(int fd);
  bool done() const;

  // Exec sessions (exec_session.h): the loop routes their fds to them and reaps them.
  json start_exec(ControlConn& c, ExecRequest req);
  ExecSession* find_exec(const std::string& id);
  void answer_exec_waits(const std::string& id, int code);
  void watch(int fd, uint32_t events, ExecSession& owner) override;
  void retire_fd(UniqueFd fd) override;
  void retire_client(std::unique_ptr<AttachClient> client) override;
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  void expire_execs(std::chrono::steady_clock::time_point now);
  void finish_execs();

  const Options& o_;
  std::unique_ptr<runtime::OciRuntime> rt_;
  pid_t pid_ = 0;
  bool started_ = false;
  std::optional<ExitStatus> exit_;
  std::chrono::steady_clock::time_point deadline_;
  OomCounter oom_;
  std::optional<logfile::Writer> log_;

  UniqueFd lock_;  // protocol.h's shim.lock, held while the runtime has the container
  UniqueFd epoll_, signals_, listener_;
  UniqueFd out_, err_, stdin_, pty_;
  std::string stdin_buf_;
  bool stdin_open_ = false, stdin_closing_ = false, stdin_room_ = true;

  std::map<int, uint32_t> watched_;
  std::map<int, std::unique_ptr<ControlConn>> conns_;
  std::map<int, std::unique_ptr<AttachClient>> clients_;
  std::map<std::string, std::unique_ptr<ExecSession>> execs_;
  std::map<int, ExecSession*> exec_fds_;
  // Exit codes of finished execs, for an exec_wait that comes after the end.
  std::map<std::string, int> exec_exits_;
  // Closed at the end of an epoll batch, so that no later event of the batch meets a new
  // file that reused the number.
  std::vector<UniqueFd> retired_;
  std::vector<std::unique_ptr<ControlConn>> retired_conns_;
  std::vector<std::unique_ptr<AttachClient>> retired_clients_;
  std::vector<std::unique_ptr<ExecSession>> retired_execs_;
};

pid_t Shim::create() {
  if (o_.log_driver != "none") {
    std::map<std::string, std::string> opts;
    for (auto& kv : o_.log_opts) {
      auto eq = kv.find('=');
      opts[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    if (o_.log_path.empty())
      throw InvalidArgument("--log-path is required with the " + o_.log_driver + " log driver");
    log_.emplace(o_.log_path, logfile::parse_config(o_.log_driver, opts));
  }
  mkdir_p(o_.state_dir, 0700);
  lock_ = hold_lock(path_join(o_.state_dir, kLockFile));
  // A status left by an earlier run of this container must not be taken for this one's.
  ::unlink(path_join(o_.state_dir, kExitFile).c_str());

  runtime::CreateOptions copts;
  copts.bundle = o_.bundle;
  std::optional<ConsoleSocket> console;
  Pipes pipes;
  if (o_.tty) {
    console.emplace(path_join(o_.state_dir, "console.sock"));
    copts.console_socket = console->path();
    pid_ = rt_->create(o_.id, copts);
  } else {
    pipes = make_pipes(o_.stdin);
    StdioSwap swap(pipes.stdin_r.get(), pipes.stdout_w.get(), pipes.stderr_w.get());
    pid_ = rt_->create(o_.id, copts);
  }
  try {
    oom_ = OomCounter(pid_, runtime::RuntimeOptions().cgroup_fs_root);
    if (o_.tty) {
      pty_ = console->receive_master();
    } else {
      out_ = std::move(pipes.stdout_r);
      err_ = std::move(pipes.stderr_r);
      stdin_ = std::move(pipes.stdin_w);
    }
    stdin_open_ = o_.stdin;
    setup_loop();
  } catch (const std::exception&) {
    // The container exists but nobody could serve it: do not leave it behind.
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    try {
      rt_->remove(o_.id, true);
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
    throw;
  }
  return pid_;
}

void Shim::setup_loop() {
  // From here on signals arrive through the signalfd; the container's process was forked
  // before this, with the default mask and dispositions.
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) throw_errno("sigprocmask");
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) throw_errno("signalfd");
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_errno("epoll_create1");
  listener_ = listen_unix(o_.socket);
  watch(signals_.get(), EPOLLIN);
  watch(listener_.get(), EPOLLIN);
  if (out_) watch(out_.get(), EPOLLIN);
  if (err_) watch(err_.get(), EPOLLIN);
  if (pty_) watch(pty_.get(), EPOLLIN);
  if (stdin_) watch(stdin_.get(), 0);
  // A SIGCHLD that came before the mask was set was discarded: look once.
  reap();
}

void Shim::watch(int fd, uint32_t events) {
  auto it = watched_.find(fd);
  if (it != watched_.end() && it->second == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), it == watched_.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
    throw_errno("epoll_ctl");
  watched_[fd] = events;
}

void Shim::unwatch(int fd) {
  if (watched_.erase(fd)) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Shim::retire(UniqueFd& fd) {
  if (!fd) return;
  unwatch(fd.get());
  retired_.push_back(std::move(fd));
}

void Shim::serve() {
  epoll_event events[64];
  while (!done()) {
    auto now = std::chrono::steady_clock::now();
    if (exit_ && now >= deadline_) break;
    expire_execs(now);
    int timeout = -1;
    if (auto until = next_deadline()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - now);
      timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    int n = ::epoll_wait(epoll_.get(), events, 64, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("epoll_wait");
    }
    for (int i = 0; i < n; i++) dispatch(events[i].data.fd, events[i].events);
    if (exit_) {
      // Clients are closed after their last output.
      std::vector<int> flushed;
      for (auto& [fd, c] : clients_)
        if (!c->has_pending()) flushed.push_back(fd);
      for (int fd : flushed) drop_client(fd);
    }
    finish_execs();
    retired_.clear();
    retired_conns_.clear();
    retired_clients_.clear();
    retired_execs_.clear();
  }
}

bool Shim::done() const {
  if (!exit_ || !clients_.empty() || !execs_.empty()) return false;
  for (auto& [fd, c] : conns_)
    if (c->has_pending() || c->waiting) return false;
  return true;
}

void Shim::dispatch(int fd, uint32_t events) {
  if (fd == signals_.get()) {
    on_signal();
  } else if (fd == listener_.get()) {
    accept_connections();
  } else if (fd == out_.get()) {
    read_output(out_, Stream::kStdout);
  } else if (fd == err_.get()) {
    read_output(err_, Stream::kStderr);
  } else if (fd == pty_.get()) {
    if ((events & EPOLLOUT) && stdin_open_) flush_stdin();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_output(pty_, Stream::kStdout);
  } else if (fd == stdin_.get()) {
    if (events & EPOLLERR) {
      close_stdin();  // the container closed its end of stdin
    } else {
      flush_stdin();
    }
  } else if (auto c = conns_.find(fd); c != conns_.end()) {
    on_control(*c->second, events);
  } else if (auto a = clients_.find(fd); a != clients_.end()) {
    on_client(*a->second, events);
  } else if (auto x = exec_fds_.find(fd); x != exec_fds_.end()) {
    x->second->on_event(fd, events);
  }
}

void Shim::on_signal() {
  signalfd_siginfo si;
  while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) {
      reap();
    } else {
      terminate();
    }
  }
}

void Shim::reap() {
  // As a subreaper the shim also inherits the container's orphans (an exec'd process whose
  // parent went away): reap them all, record only the container's own process.
  int status;
  pid_t p;
  while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (p == pid_ && !exit_) {
      on_exit(status);
      continue;
    }
    for (auto& [id, x] : execs_) {
      if (x->pid() != p || x->exit_code()) continue;
      x->on_exit(status);
      answer_exec_waits(id, *x->exit_code());
      break;
    }
  }
}

void Shim::terminate() {
  // Asked to go away: the container goes first, and its end is recorded as any other.
  if (exit_) return;
  try {
    rt_->kill(o_.id, SIGKILL, true);
  } catch (const std::exception& e) {
    log::warn(e.what());
  }
}

void Shim::on_exit(int wait_status) {
  ExitStatus st;
  st.code = exit_code(wait_status);
  st.finished_at = now_rfc3339();
  st.oom_kills = oom_.kills();  // before the runtime deletes the cgroup
  st.oom_killed = st.oom_kills > 0;
  drain_output();
  if (log_) log_->flush();
  try {
    write_exit_file(o_.state_dir, st);
  } catch (const std::exception& e) {
    log::error(std::string("record the exit status: ") + e.what());
  }
  // Deleted before waits are answered, so that berthd may create a container of the same
  // id (a restart) as soon as it learns of the exit.
  try {
    rt_->remove(o_.id, true);
  } catch (const std::exception& e) {
    log::warn(e.what());
  }
  lock_.reset();
  exit_ = st;
  deadline_ = std::chrono::steady_clock::now() + kExitGrace;
  close_stdin();
  retire(out_);
  retire(err_);
  retire(pty_);
  // No new connections: a berthd that comes later reads exit.json.
  retire(listener_);
  ::unlink(o_.socket.c_str());
  std::vector<int> fds;
  for (auto& [fd, c] : conns_) fds.push_back(fd);
  for (int fd : fds) {
    auto it = conns_.find(fd);
    if (it == conns_.end() || !it->second->waiting || !it->second->wait_exec.empty()) continue;
    ControlConn& c = *it->second;
    c.waiting = false;
    c.reply(exit_reply(st));
    process_requests(c);
    if (!c.flush()) {
      drop_conn(fd);
    } else {
      watch(fd, c.events());
    }
  }
}

bool Shim::read_output(UniqueFd& src, Stream stream) {
  char buf[32768];
  ssize_t n = ::read(src.get(), buf, sizeof buf);
  if (n > 0) {
    deliver(stream, std::string_view(buf, static_cast<size_t>(n)));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  // End of file, or EIO from the pty master once the terminal's last user is gone.
  if (&src == &pty_) stdin_open_ = false;
  retire(src);
  return false;
}

void Shim::drain_output() {
  // The container's processes are all gone (its pid namespace died with its init), so the
  // pipes hold their last bytes and then end; without a pid namespace a leftover process
  // may keep them open, and what it writes later is not waited for.
  for (auto* src : {&out_, &err_, &pty_}) {
    Stream s = src == &err_ ? Stream::kStderr : Stream::kStdout;
    while (*src && read_output(*src, s)) {
    }
  }
}

void Shim::deliver(Stream stream, std::string_view data) {
  if (log_)
    log_->write(stream == Stream::kStderr ? logfile::Source::kStderr : logfile::Source::kStdout,
                data);
  std::vector<int> slow;
  for (auto& [fd, c] : clients_) {
    if (!c->send(stream, data) || !c->flush()) {
      slow.push_back(fd);
    } else {
      watch_client(*c);
    }
  }
  for (int fd : slow) drop_client(fd);
}

void Shim::feed_stdin(std::string_view data) {
  if (!stdin_open_ || data.empty()) return;
  stdin_buf_.append(data);
  flush_stdin();
}

void Shim::flush_stdin() {
  while (!stdin_buf_.empty()) {
    ssize_t n = ::write(stdin_fd(), stdin_buf_.data(), stdin_buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      close_stdin();  // EPIPE: nobody reads the container's stdin any more
      return;
    }
    stdin_buf_.erase(0, static_cast<size_t>(n));
  }
  if (stdin_buf_.empty() && stdin_closing_) {
    close_stdin();
    return;
  }
  watch_stdin();
}

void Shim::end_stdin() {
  // Docker's StdinOnce closes the container's stdin after the first attached stdin ends;
  // with a terminal, as in Docker, it stays open (closing it would hang up the output).
  if (!o_.stdin_once || o_.tty || !stdin_open_) return;
  stdin_closing_ = true;
  flush_stdin();
}

void Shim::close_stdin() {
  stdin_open_ = false;
  stdin_buf_.clear();
  if (stdin_) retire(stdin_);
  watch_stdin();
}

void Shim::watch_stdin() {
  bool pending = stdin_open_ && !stdin_buf_.empty();
  if (pty_) watch(pty_.get(), pending ? EPOLLIN | EPOLLOUT : EPOLLIN);
  if (stdin_) watch(stdin_.get(), pending ? uint32_t{EPOLLOUT} : 0);
  bool room = stdin_buf_.size() < kMaxStdinBuffer;
  if (room != stdin_room_) {
    stdin_room_ = room;
    for (auto& [fd, c] : clients_) watch_client(*c);
  }
}

void Shim::watch_client(AttachClient& c) {
  watch(c.fd(), c.events(stdin_room_));
}

void Shim::accept_connections() {
  for (;;) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;  // EAGAIN, or an error that the next connection may not have
    int n = fd.get();
    auto conn = std::make_unique<ControlConn>(std::move(fd));
    watch(n, conn->events());
    conns_.emplace(n, std::move(conn));
  }
}

void Shim::on_control(ControlConn& c, uint32_t events) {
  int fd = c.fd();
  if ((events & (EPOLLIN | EPOLLRDHUP)) && !c.receive()) {
    drop_conn(fd);
    return;
  }
  process_requests(c);
  // A hang-up is both directions closed: no answer can reach berthd any more.
  if ((events & (EPOLLHUP | EPOLLERR)) || !c.flush() || c.finished()) {
    drop_conn(fd);
    return;
  }
  watch(fd, c.events());
}

void Shim::process_requests(ControlConn& c) {
  while (auto line = c.next_request()) {
    std::optional<json> answer;
    try {
      answer = handle(c, decode_request(json::parse(*line)));
    } catch (const json::exception& e) {
      answer = error_reply(std::string("invalid request: ") + e.what());
    } catch (const std::exception& e) {
      answer = error_reply(e.what());
    }
    if (answer) c.reply(*answer);
  }
}

std::optional<json> Shim::handle(ControlConn& c, const Request& req) {
  if (std::holds_alternative<StartRequest>(req)) {
    if (exit_) throw Error("cannot start a container that has stopped");
    rt_->start(o_.id);
    started_ = true;
    release_startup_memory(false);
    return started_reply({pid_});
  }
  if (auto* a = std::get_if<AttachRequest>(&req)) {
    UniqueFd fd = c.take_fd();
    if (!fd) throw Error("attach: no connection passed with the request");
    if (exit_) throw Error("cannot attach to a stopped container");
    AttachOptions ao;
    // Without --stdin what the client sends is dropped, but it may still half-close.
    ao.stdin = a->stdin;
    ao.stdout = a->stdout;
    ao.stderr = a->stderr;
    ao.tty = o_.tty;
    ao.detach_keys = parse_detach_keys(a->detach_keys);
    int n = fd.get();
    auto client = std::make_unique<AttachClient>(std::move(fd), std::move(ao));
    watch_client(*client);
    clients_.emplace(n, std::move(client));
    return ok_reply();
  }
  if (auto* r = std::get_if<ResizeRequest>(&req)) {
    if (!o_.tty) throw Error("cannot resize: the container has no terminal");
    if (!pty_) throw Error("cannot resize: the container is not running");
    set_window_size(pty_.get(), r->height, r->width);
    return ok_reply();
  }
  if (auto* k = std::get_if<KillRequest>(&req)) {
    if (exit_) throw Error("container " + o_.id + " is not running");
    rt_->kill(o_.id, k->signal, k->all);
    return ok_reply();
  }
  if (std::holds_alternative<WaitRequest>(req)) {
    if (exit_) return exit_reply(*exit_);
    c.waiting = true;
    return std::nullopt;
  }
  if (std::holds_alternative<StateRequest>(req)) return state_reply({pid_, started_ && !exit_});
  if (auto* x = std::get_if<ExecRequest>(&req)) return start_exec(c, *x);
  if (auto* w = std::get_if<ExecWaitRequest>(&req)) {
    if (auto done = exec_exits_.find(w->exec_id); done != exec_exits_.end())
      return exec_exit_reply(done->second);
    auto* x = find_exec(w->exec_id);
    if (x->exit_code()) return exec_exit_reply(*x->exit_code());
    c.waiting = true;
    c.wait_exec = w->exec_id;
    return std::nullopt;
  }
  auto& r = std::get<ExecResizeRequest>(req);
  find_exec(r.exec_id)->resize(r.height, r.width);
  return ok_reply();
}

json Shim::start_exec(ControlConn& c, ExecRequest req) {
  UniqueFd client = c.take_fd();
  std::string id = req.exec_id;
  if (id.empty() || execs_.count(id) || exec_exits_.count(id))
    throw Error("exec " + id + " exists already");
  if (exit_ || !started_) throw Error("container " + o_.id + " is not running");
  auto session =
      ExecSession::start(*rt_, o_.id, o_.state_dir, std::move(req), std::move(client), *this);
  pid_t pid = session->pid();
  execs_.emplace(session->id(), std::move(session));
  return started_reply({pid});
}

ExecSession* Shim::find_exec(const std::string& id) {
  auto it = execs_.find(id);
  if (it == execs_.end()) throw NotFound("no such exec: " + id);
  return it->second.get();
}

void Shim::answer_exec_waits(const std::string& id, int code) {
  std::vector<int> fds;
  for (auto& [fd, c] : conns_)
    if (c->waiting && c->wait_exec == id) fds.push_back(fd);
  for (int fd : fds) {
    ControlConn& c = *conns_.at(fd);
    c.waiting = false;
    c.wait_exec.clear();
    c.reply(exec_exit_reply(code));
    process_requests(c);
    if (!c.flush()) {
      drop_conn(fd);
    } else {
      watch(fd, c.events());
    }
  }
}

void Shim::watch(int fd, uint32_t events, ExecSession& owner) {
  watch(fd, events);
  exec_fds_[fd] = &owner;
}

void Shim::retire_fd(UniqueFd fd) {
  exec_fds_.erase(fd.get());
  unwatch(fd.get());
  retired_.push_back(std::move(fd));
}

void Shim::retire_client(std::unique_ptr<AttachClient> client) {
  exec_fds_.erase(client->fd());
  unwatch(client->fd());
  retired_clients_.push_back(std::move(client));
}

std::optional<std::chrono::steady_clock::time_point> Shim::next_deadline() const {
  std::optional<std::chrono::steady_clock::time_point> until;
  if (exit_) until = deadline_;
  for (auto& [id, x] : execs_)
    if (auto d = x->deadline(); d && (!until || *d < *until)) until = d;
  return until;
}

void Shim::expire_execs(std::chrono::steady_clock::time_point now) {
  for (auto& [id, x] : execs_)
    if (auto d = x->deadline(); d && *d <= now) x->expire();
  finish_execs();
  retired_.clear();
  retired_clients_.clear();
  retired_execs_.clear();
}

void Shim::finish_execs() {
  for (auto it = execs_.begin(); it != execs_.end();) {
    if (!it->second->finished()) {
      ++it;
      continue;
    }
    exec_exits_[it->first] = *it->second->exit_code();
    // Bounded (health checks exec forever): berthd asks once, soon after the start.
    if (exec_exits_.size() > 1024) exec_exits_.erase(exec_exits_.begin());
    retired_execs_.push_back(std::move(it->second));
    it = execs_.erase(it);
  }
}

void Shim::on_client(AttachClient& c, uint32_t events) {
  int fd = c.fd();
  if ((events & EPOLLOUT) && !c.flush()) {
    drop_client(fd);
    return;
  }
  bool reading = watched_[fd] & EPOLLIN;
  if (reading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    std::string input;
    auto r = c.read(input);
    feed_stdin(input);
    if (r == AttachClient::Input::kDetach) {
      drop_client(fd);
      return;
    }
    if (r == AttachClient::Input::kEof || r == AttachClient::Input::kClosed) {
      if (c.reads_stdin()) end_stdin();
      c.stop_stdin();
    }
    if (r == AttachClient::Input::kClosed) {
      drop_client(fd);
      return;
    }
  } else if (events & (EPOLLHUP | EPOLLERR)) {
    drop_client(fd);
    return;
  }
  watch_client(c);
}

void Shim::drop_client(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  unwatch(fd);
  retired_clients_.push_back(std::move(it->second));
  clients_.erase(it);
}

void Shim::drop_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  unwatch(fd);
  retired_conns_.push_back(std::move(it->second));
  conns_.erase(it);
}

// The shim starts from whatever berthd left it: fds berthd forgot to mark close-on-exec
// (its API socket, its data-root lock) would be held for the container's lifetime, and a
// blocked or ignored signal would be inherited by the container's process.
void reset_inherited_state(int keep_fd) {
  if (keep_fd > 3) ::syscall(SYS_close_range, 3, keep_fd - 1, 0);
  ::syscall(SYS_close_range, std::max(3, keep_fd + 1), ~0U, 0);
  // Fds 0-2 must exist so that no pipe of ours lands there before they are swapped.
  for (;;) {
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) break;
    if (fd > 2) {
      ::close(fd);
      break;
    }
    ::fcntl(fd, F_SETFD, 0);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGCHLD}) ::signal(s, SIG_DFL);
}

void report_ready(UniqueFd& ready, std::string line) {
  if (!ready) return;
  // One line, whatever the error message holds.
  for (auto& ch : line)
    if (ch == '\n') ch = ' ';
  try {
    write_all(ready.get(), line + "\n");
  } catch (const std::exception&) {
    // berthd went away while we started; it learns the rest from the socket or exit.json.
  }
  ready.reset();
}

}  // namespace

int run(const Options& opts) {
  reset_inherited_state(opts.ready_fd);
  UniqueFd ready(opts.ready_fd);
  // Processes that the container's exec'd children leave behind are reparented to us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  Shim shim(opts);
  pid_t pid;
  try {
    pid = shim.create();
  } catch (const std::exception& e) {
    report_ready(ready, std::string("error ") + e.what());
    return 1;
  }
  report_ready(ready, "ok " + std::to_string(pid));
  shim.serve();
  return 0;
}

}  // namespace berth::shim
