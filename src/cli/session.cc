#include "cli/session.h"

#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/fs.h"
#include "cli/terminal.h"

namespace berth::cli {

using client::ApiClient;
using client::HijackedConn;
using client::Query;
using client::StdWriter;

SignalWatcher::SignalWatcher(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  ::pthread_sigmask(SIG_BLOCK, &set, &old_);
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!fd_) throw_errno("signalfd");
}

SignalWatcher::~SignalWatcher() {
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

int SignalWatcher::next() {
  signalfd_siginfo si{};
  for (;;) {
    ssize_t n = ::read(fd_.get(), &si, sizeof si);
    if (n == sizeof si) return static_cast<int>(si.ssi_signo);
    if (n < 0 && errno != EINTR) throw_errno("read signalfd");
  }
}

std::vector<int> proxied_signals() {
  std::vector<int> out;
  for (int s = 1; s < SIGRTMIN; ++s) {
    if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == SIGPIPE || s == SIGURG ||
        s == SIGWINCH || s == SIGSEGV || s == SIGBUS || s == SIGFPE || s == SIGILL)
      continue;
    out.push_back(s);
  }
  return out;
}

void resize_tty(ApiClient& api, const std::string& resize_path) {
  auto size = terminal_size(STDOUT_FILENO);
  if (!size) size = terminal_size(STDIN_FILENO);
  if (!size || size->rows == 0 || size->cols == 0) return;
  try {
    Query q;
    q.add("h", std::to_string(size->rows)).add("w", std::to_string(size->cols));
    api.call("POST", resize_path, q);
  } catch (const Error&) {
    // The process may already be gone; docker ignores these too.
  }
}

namespace {

ssize_t read_retry(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, buf, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

SessionResult run_session(ApiClient& api, HijackedConn& conn, const SessionOptions& o,
                          SignalWatcher* signals) {
  SessionResult result;
  StdWriter demux;
  auto output = [&](std::string_view d) {
    if (o.tty) {
      write_all(STDOUT_FILENO, d);
    } else {
      demux.feed(d);
    }
  };
  if (!conn.early.empty()) output(conn.early);

  EscapeProxy escape(o.tty && o.stdin_attached ? o.detach_keys : "");
  bool stdin_open = o.stdin_attached;
  char buf[32768];
  for (;;) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {conn.fd.get(), POLLIN, 0};
    int stdin_slot = -1, signal_slot = -1;
    if (stdin_open) {
      stdin_slot = static_cast<int>(n);
      fds[n++] = {STDIN_FILENO, POLLIN, 0};
    }
    if (signals) {
      signal_slot = static_cast<int>(n);
      fds[n++] = {signals->fd(), POLLIN, 0};
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[0].revents) {
      ssize_t r = read_retry(conn.fd.get(), buf, sizeof buf);
      if (r <= 0) break;  // the container's output ended (or the daemon hung up)
      output(std::string_view(buf, static_cast<size_t>(r)));
    }
    if (stdin_slot >= 0 && fds[stdin_slot].revents) {
      ssize_t r = read_retry(STDIN_FILENO, buf, sizeof buf);
      if (r <= 0) {
        // End of input: half-close so the container sees EOF on its stdin while its
        // remaining output still reaches us.
        stdin_open = false;
        ::shutdown(conn.fd.get(), SHUT_WR);
      } else {
        bool detach = false;
        std::string data = escape.filter(std::string_view(buf, static_cast<size_t>(r)), detach);
        try {
          if (!data.empty()) write_all(conn.fd.get(), data);
        } catch (const Error&) {
          stdin_open = false;  // the daemon stopped reading; output may still follow
        }
        if (detach) {
          result.detached = true;
          return result;
        }
      }
    }
    if (signal_slot >= 0 && fds[signal_slot].revents) {
      int sig = signals->next();
      if (sig == SIGWINCH) {
        if (!o.resize_path.empty()) resize_tty(api, o.resize_path);
      } else if (!o.kill_path.empty()) {
        const char* name = ::sigabbrev_np(sig);
        try {
          api.call("POST", o.kill_path, Query().add("signal", name ? name : std::to_string(sig)));
        } catch (const Error& e) {
          std::fprintf(stderr, "Error sending signal: %s\n", e.what());
        }
      }
    }
  }
  result.error = demux.error();
  return result;
}

}  // namespace berth::cli
