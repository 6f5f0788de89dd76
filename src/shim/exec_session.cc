#include "shim/exec_session.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/fs.h"
#include "shim/exit_status.h"
#include "shim/stdio.h"

namespace berth::shim {
namespace {

// While this much stdin waits for the process, its client is not read.
constexpr size_t kMaxStdinBuffer = 1 << 20;
// After the exit, how long the last output of a terminal (which the kernel hands over after
// the process is gone) and a slow client get.
constexpr std::chrono::seconds kExecGrace{2};

}  // namespace

std::unique_ptr<ExecSession> ExecSession::start(runtime::OciRuntime& rt,
                                                const std::string& container_id,
                                                const std::string& state_dir, ExecRequest req,
                                                UniqueFd client, ExecLoop& loop) {
  bool tty = req.process.terminal;
  std::unique_ptr<ExecSession> s(new ExecSession(loop, req.exec_id, tty));
  AttachOptions ao;
  ao.stdin = req.stdin;
  ao.stdout = req.stdout;
  ao.stderr = req.stderr;
  ao.tty = req.raw.value_or(tty);
  // Bad keys fail the start, before any process exists.
  ao.detach_keys = parse_detach_keys(req.detach_keys);

  // A runtime binary takes the process as JSON.
  nlohmann::json process_json = oci::write_process(req.process);
  runtime::ExecOptions eo;
  eo.process = req.process;
  eo.tty = tty;
  // Detached, the runtime returns once the process is set up, and the loop never blocks on
  // it; the shim (a subreaper) reaps it on SIGCHLD like the container's own process.
  eo.detach = true;
  eo.pid_file = path_join(state_dir, "exec.pid");
  ::unlink(eo.pid_file.c_str());
  if (tty) {
    ConsoleSocket console(path_join(state_dir, "execpty.sock"));
    eo.console_socket = console.path();
    rt.exec(container_id, eo, process_json);
    s->pid_ = static_cast<pid_t>(std::stol(trim(read_file(eo.pid_file))));
    try {
      s->pty_ = console.receive_master();
    } catch (const std::exception&) {
      ::kill(s->pid_, SIGKILL);  // reaped by the loop as any stray child
      throw;
    }
  } else {
    Pipes pipes = make_pipes(req.stdin);
    {
      StdioSwap swap(pipes.stdin_r.get(), pipes.stdout_w.get(), pipes.stderr_w.get());
      rt.exec(container_id, eo, process_json);
    }
    s->pid_ = static_cast<pid_t>(std::stol(trim(read_file(eo.pid_file))));
    s->out_ = std::move(pipes.stdout_r);
    s->err_ = std::move(pipes.stderr_r);
    s->in_ = std::move(pipes.stdin_w);
  }
  ::unlink(eo.pid_file.c_str());
  s->in_open_ = req.stdin;
  if (client) s->client_ = std::make_unique<AttachClient>(std::move(client), std::move(ao));
  s->rewatch();
  return s;
}

ExecSession::~ExecSession() = default;

void ExecSession::retire(UniqueFd& fd) {
  if (fd) loop_.retire_fd(std::move(fd));
  fd = UniqueFd();
}

void ExecSession::rewatch() {
  bool pending = in_open_ && !in_buf_.empty();
  if (out_) loop_.watch(out_.get(), EPOLLIN, *this);
  if (err_) loop_.watch(err_.get(), EPOLLIN, *this);
  if (pty_) loop_.watch(pty_.get(), pending ? EPOLLIN | EPOLLOUT : EPOLLIN, *this);
  if (in_) loop_.watch(in_.get(), pending ? uint32_t{EPOLLOUT} : 0, *this);
  if (client_) loop_.watch(client_->fd(), client_->events(in_buf_.size() < kMaxStdinBuffer), *this);
}

void ExecSession::on_event(int fd, uint32_t events) {
  if (fd == out_.get()) {
    read_output(out_, Stream::kStdout);
  } else if (fd == err_.get()) {
    read_output(err_, Stream::kStderr);
  } else if (fd == pty_.get()) {
    if ((events & EPOLLOUT) && in_open_) flush_stdin();
    if (pty_ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) read_output(pty_, Stream::kStdout);
  } else if (fd == in_.get()) {
    if (events & EPOLLERR) {
      close_stdin();  // the process closed its end of stdin
    } else {
      flush_stdin();
    }
  } else if (client_ && fd == client_->fd()) {
    on_client(events);
  }
  close_when_done();
  rewatch();
}

bool ExecSession::read_output(UniqueFd& src, Stream stream) {
  char buf[32768];
  ssize_t n = ::read(src.get(), buf, sizeof buf);
  if (n > 0) {
    deliver(stream, std::string_view(buf, static_cast<size_t>(n)));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  // End of file, or EIO from the pty master once the terminal's last user is gone.
  if (&src == &pty_) in_open_ = false;
  retire(src);
  return false;
}

void ExecSession::deliver(Stream stream, std::string_view data) {
  if (!client_) return;  // detached: the output goes nowhere, as with Docker
  if (!client_->send(stream, data) || !client_->flush()) drop_client(false);
}

void ExecSession::feed_stdin(std::string_view data) {
  if (!in_open_ || data.empty()) return;
  in_buf_.append(data);
  flush_stdin();
}

void ExecSession::flush_stdin() {
  while (!in_buf_.empty()) {
    ssize_t n = ::write(stdin_fd(), in_buf_.data(), in_buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      close_stdin();  // EPIPE: nobody reads the process's stdin any more
      return;
    }
    in_buf_.erase(0, static_cast<size_t>(n));
  }
  if (in_closing_) close_stdin();
}

void ExecSession::close_stdin() {
  in_open_ = false;
  in_buf_.clear();
  retire(in_);
}

void ExecSession::on_client(uint32_t events) {
  if ((events & EPOLLOUT) && !client_->flush()) {
    drop_client(false);
    return;
  }
  bool reading = client_->events(in_buf_.size() < kMaxStdinBuffer) & EPOLLIN;
  if (reading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    std::string input;
    auto r = client_->read(input);
    feed_stdin(input);
    if (r == AttachClient::Input::kDetach) {
      drop_client(true);
      return;
    }
    if (r == AttachClient::Input::kEof || r == AttachClient::Input::kClosed) {
      // The end of the client's stdin is the end of the process's (`echo x | docker exec -i
      // c cat`); a terminal stays open, as with Docker.
      if (client_->reads_stdin() && !tty_ && in_open_) {
        in_closing_ = true;
        flush_stdin();
      }
      client_->stop_stdin();
    }
    if (r == AttachClient::Input::kClosed) drop_client(false);
  } else if (events & (EPOLLHUP | EPOLLERR)) {
    drop_client(false);
  }
}

void ExecSession::drop_client(bool hang_up) {
  if (!client_) return;
  // berthd holds its own copy of the connection until the exec ends (so that the client
  // sees the end only once the exit code is recorded): a client that detaches is hung up
  // explicitly.
  if (hang_up) ::shutdown(client_->fd(), SHUT_RDWR);
  loop_.retire_client(std::move(client_));
  client_.reset();
}

void ExecSession::on_exit(int wait_status) {
  code_ = shim::exit_code(wait_status);
  exited_at_ = std::chrono::steady_clock::now();
  close_stdin();
  // Pipes hold everything the process wrote; what is left in them now is all there is (a
  // background child that keeps them open is not waited for).
  for (auto* src : {&out_, &err_}) {
    Stream s = src == &err_ ? Stream::kStderr : Stream::kStdout;
    while (*src && read_output(*src, s)) {
    }
    retire(*src);
  }
  // A terminal's last output may still be on its way through the kernel: the master is read
  // until it reports EIO (or the grace ends).
  while (pty_ && read_output(pty_, Stream::kStdout)) {
  }
  close_when_done();
  rewatch();
}

void ExecSession::close_when_done() {
  if (code_ && !out_ && !err_ && !pty_ && client_ && !client_->has_pending()) drop_client(false);
}

void ExecSession::resize(unsigned height, unsigned width) {
  if (!tty_) throw Error("cannot resize: the exec has no terminal");
  if (!pty_ || code_) throw Error("cannot resize: the exec is not running");
  set_window_size(pty_.get(), height, width);
}

std::optional<std::chrono::steady_clock::time_point> ExecSession::deadline() const {
  if (!code_) return std::nullopt;
  return exited_at_ + kExecGrace;
}

void ExecSession::expire() {
  close_stdin();
  retire(out_);
  retire(err_);
  retire(pty_);
  drop_client(false);
}

}  // namespace berth::shim
