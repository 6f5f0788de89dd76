#include "shim/stdio.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/unix_address.h"

namespace berth::shim {
namespace {

void make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe");
  r.reset(p[0]);
  w.reset(p[1]);
}

}  // namespace

Pipes make_pipes(bool with_stdin) {
  Pipes p;
  if (with_stdin) {
    make_pipe(p.stdin_r, p.stdin_w);
  } else {
    p.stdin_r = open_or_throw("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  make_pipe(p.stdout_r, p.stdout_w);
  make_pipe(p.stderr_r, p.stderr_w);
  for (int fd : {p.stdin_w.get(), p.stdout_r.get(), p.stderr_r.get()})
    if (fd >= 0) set_nonblocking(fd);
  return p;
}

StdioSwap::StdioSwap(int in, int out, int err) {
  int fds[3] = {in, out, err};
  for (int i = 0; i < 3; i++)
    if (::dup2(fds[i], i) < 0) throw_errno("dup2 container stdio");
}

StdioSwap::~StdioSwap() {
  int null = ::open("/dev/null", O_RDWR);
  if (null < 0) return;  // nothing better to put there; 0/1/2 keep the container's ends
  for (int i = 0; i < 3; i++) ::dup2(null, i);
  if (null > 2) ::close(null);
}

ConsoleSocket::ConsoleSocket(std::string path)
    : path_(std::move(path)), listener_(listen_unix(path_)) {}

ConsoleSocket::~ConsoleSocket() {
  ::unlink(path_.c_str());
}

UniqueFd ConsoleSocket::receive_master() {
  UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    if (errno == EAGAIN)
      throw Error("no terminal received from the container (is process.terminal set?)");
    throw_errno("accept console connection");
  }
  UniqueFd master = receive_fd(conn.get(), MSG_DONTWAIT, "receive the terminal");
  set_nonblocking(master.get());
  return master;
}

UniqueFd listen_unix(const std::string& path) {
  UnixAddress a = unix_address(path);
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) throw_errno("socket");
  // A socket left by a shim that died with the same path would make bind fail.
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) < 0)
    throw_errno("bind " + path);
  // Only root (berthd) may drive the container.
  if (::chmod(path.c_str(), 0600) < 0) throw_errno("chmod " + path);
  if (::listen(s.get(), 64) < 0) throw_errno("listen " + path);
  return s;
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_errno("fcntl O_NONBLOCK");
}

void set_window_size(int pty_master, unsigned height, unsigned width) {
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(height);
  ws.ws_col = static_cast<unsigned short>(width);
  if (::ioctl(pty_master, TIOCSWINSZ, &ws) < 0) throw_errno("resize the terminal");
}

}  // namespace berth::shim
