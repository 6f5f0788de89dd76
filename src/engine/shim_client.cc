#include "engine/shim_client.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/unix_address.h"

namespace berth::engine {

pid_t spawn_shim(const ShimLaunch& l) {
  std::vector<std::string> argv = {l.shim_binary, "--id",           l.id,           "--bundle",
                                   l.bundle,      "--runtime-root", l.runtime_root, "--socket",
                                   l.socket,      "--state-dir",    l.state_dir,    "--ready-fd",
                                   "3",           "--log-driver",   l.log_driver};
  if (!l.log_path.empty()) argv.insert(argv.end(), {"--log-path", l.log_path});
  for (auto& o : l.log_opts) argv.insert(argv.end(), {"--log-opt", o});
  if (!l.runtime_binary.empty()) argv.insert(argv.end(), {"--runtime-binary", l.runtime_binary});
  // Joined with "=": the arguments are options of the runtime ("--systemd-cgroup").
  for (auto& a : l.runtime_args) argv.push_back("--runtime-arg=" + a);
  if (l.tty) argv.push_back("--tty");
  if (l.open_stdin) argv.push_back("--stdin");
  if (l.stdin_once) argv.push_back("--stdin-once");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::string log = path_join(l.state_dir, "shim.log");

  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe for shim " + l.id);
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t child = ::fork();
  if (child < 0) throw_errno("fork shim for " + l.id);
  if (child == 0) {
    // Twice forked, so that the shim is nobody's child here and berthd never reaps it.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null = ::open("/dev/null", O_RDWR);
    int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(err >= 0 ? err : null, 2);
    ::dup2(wr.get(), 3);
    ::syscall(SYS_close_range, 4, ~0U, 0);
    ::execv(cargv[0], cargv.data());
    dprintf(3, "error cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  wr.reset();
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(rd.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line.push_back(c);
  }
  if (line.rfind("ok ", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(3)));
  if (line.rfind("error ", 0) == 0) throw Error(line.substr(6));
  std::string why = trim(read_file_if_exists(log).value_or(""));
  throw Error("shim for " + l.id + " exited before it was ready" + (why.empty() ? "" : ": " + why));
}

ShimConnection ShimConnection::connect(const std::string& socket) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  UnixAddress a = unix_address(socket);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) < 0)
    throw_errno("connect to shim " + socket);
  return ShimConnection(std::move(fd));
}

nlohmann::json ShimConnection::call(const shim::Request& request, int pass_fd) {
  std::string line = shim::encode(request) + "\n";
  size_t n = send_fd(fd_.get(), line, pass_fd, MSG_NOSIGNAL, "send to shim");
  // The rest of a long line, without the descriptor.
  if (n < line.size()) write_all(fd_.get(), std::string_view(line).substr(n));
  return read_reply();
}

pid_t ShimConnection::start() {
  return shim::started_of(call(shim::StartRequest{})).pid;
}

void ShimConnection::attach(const shim::AttachRequest& r, int fd) {
  call(r, fd);
}

void ShimConnection::resize(unsigned height, unsigned width) {
  call(shim::ResizeRequest{height, width});
}

void ShimConnection::kill(int signal, bool all) {
  call(shim::KillRequest{signal, all});
}

shim::ExitStatus ShimConnection::wait() {
  return shim::exit_of(call(shim::WaitRequest{}));
}

pid_t ShimConnection::exec(const shim::ExecRequest& r, int fd) {
  return shim::started_of(call(r, fd)).pid;
}

int ShimConnection::exec_wait(const std::string& exec_id) {
  return shim::exec_exit_of(call(shim::ExecWaitRequest{exec_id}));
}

void ShimConnection::exec_resize(const std::string& exec_id, unsigned height, unsigned width) {
  call(shim::ExecResizeRequest{exec_id, height, width});
}

nlohmann::json ShimConnection::read_reply() {
  for (;;) {
    auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      auto j = nlohmann::json::parse(buf_.substr(0, nl));
      buf_.erase(0, nl + 1);
      if (j.contains("error")) throw Error(j["error"].get<std::string>());
      return j;
    }
    char tmp[4096];
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read from shim");
    if (n == 0) throw Error("the shim closed its connection");
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace berth::engine
