// Terminals: a pty made inside the container's devpts, its master handed to the caller over
// the console socket (SCM_RIGHTS, as runc does), or proxied to our own stdio.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/unix_address.h"
#include "runtime/internal.h"

namespace berth::runtime {

Pty open_pty(const std::optional<oci::ConsoleSize>& size) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) throw_errno("open /dev/ptmx");
  if (::unlockpt(master.get()) < 0) throw_errno("unlockpt");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("ptsname");
  if (size && size->height && size->width) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(master.get(), TIOCSWINSZ, &ws) < 0) throw_errno("set console size");
  }
  return Pty{std::move(master), name};
}

void attach_to_pty(const std::string& slave_path) {
  if (::setsid() < 0) throw_errno("setsid");
  int fd = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  if (fd < 0) throw_errno("open " + slave_path);
  if (::ioctl(fd, TIOCSCTTY, 0) < 0) throw_errno("set controlling terminal " + slave_path);
  for (int i = 0; i < 3; i++)
    if (::dup2(fd, i) < 0) throw_errno("dup2 console");
  if (fd > 2) ::close(fd);
}

std::string take_terminal(int channel, const std::optional<oci::ConsoleSize>& size) {
  auto pty = open_pty(size);
  send_fd(channel, pty.slave_path, pty.master.get(), 0, "send console fd");
  pty.master.reset();
  attach_to_pty(pty.slave_path);
  return pty.slave_path;
}

UniqueFd connect_unix(const std::string& path) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket");
  UnixAddress a = unix_address(path);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) < 0)
    throw_errno("connect to console socket " + path);
  return s;
}

ConsoleChannel open_console_channel(const std::string& console_socket, bool foreground) {
  ConsoleChannel ch;
  if (!console_socket.empty()) {
    ch.child = connect_unix(console_socket);
  } else if (foreground) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) throw_errno("socketpair");
    ch.peer.reset(sp[0]);
    ch.child.reset(sp[1]);
  } else {
    throw Error("cannot allocate tty if berth-runtime will detach without setting console socket");
  }
  return ch;
}

void proxy_terminal(int master) {
  termios saved{};
  bool raw = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw) {
    termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  char buf[16384];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the last slave fd closes
      try {
        write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(n)));
      } catch (const Error&) {
        break;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        fds[1].fd = -1;  // stdin closed: keep printing the container's output
        continue;
      }
      try {
        write_all(master, std::string_view(buf, static_cast<size_t>(n)));
      } catch (const Error&) {
        break;
      }
    }
  }
  if (raw) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

}  // namespace berth::runtime
