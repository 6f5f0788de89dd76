// exec: a new process in a running container's namespaces and cgroup, with its privileges.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/path.h"
#include "runtime/internal.h"
#include "runtime/sync.h"

namespace berth::runtime {
namespace {

struct NsFile {
  const char* name;
  int flag;
};
// The user namespace first: the others are owned by it. pid is joined by the parent.
const NsFile kNamespaces[] = {{"user", CLONE_NEWUSER},     {"ipc", CLONE_NEWIPC},
                              {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
                              {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
                              {"mnt", CLONE_NEWNS}};

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) < 0 || ::stat(b.c_str(), &sb) < 0) return true;
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
  auto eq = entry.find('=');
  std::string key = entry.substr(0, eq);
  for (auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = entry;
      return;
    }
  }
  env.push_back(entry);
}

// Joining a pid namespace only affects the children of whoever joins, and would follow the
// runtime into every later fork (and confuse tools that fork helpers, such as LeakSanitizer):
// an intermediate process joins it and forks the exec'd process, which we, as subreaper,
// wait for as our own child. Returns 0 in that process, its pid in the caller.
pid_t fork_into_pid_namespace(int pidns) {
  if (pidns < 0) {
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    return pid;
  }
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) throw_errno("become subreaper");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t mid = ::fork();
  if (mid < 0) throw_errno("fork");
  if (mid == 0) {
    pid_t child = ::setns(pidns, CLONE_NEWPID) == 0 ? ::fork() : -1;
    if (child == 0) return 0;
    [[maybe_unused]] ssize_t n = ::write(wr.get(), &child, sizeof child);
    _exit(child < 0 ? 1 : 0);
  }
  wr.reset();
  pid_t child = -1;
  ssize_t n = ::read(rd.get(), &child, sizeof child);
  ::waitpid(mid, nullptr, 0);
  if (n != sizeof child || child <= 0)
    throw Error("exec: could not join the container's pid namespace");
  return child;
}

oci::Process build_process(const oci::Spec& spec, const ExecOptions& o) {
  if (o.process) return *o.process;
  if (o.args.empty()) throw Error("exec: no command given (args or --process)");
  oci::Process p = *spec.process;
  p.args = o.args;
  p.terminal = o.tty;
  for (auto& e : o.env) set_env(p.env, e);
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (o.user) {
    auto parts = split(*o.user, ':');
    try {
      p.user.uid = static_cast<uid_t>(std::stoul(parts[0]));
      p.user.gid = parts.size() > 1 ? static_cast<gid_t>(std::stoul(parts[1])) : 0;
    } catch (const std::exception&) {
      throw Error("exec: invalid --user \"" + *o.user + "\": expected uid[:gid]");
    }
  }
  for (auto& g : o.additional_gids) {
    try {
      p.user.additional_gids.push_back(static_cast<gid_t>(std::stoul(g)));
    } catch (const std::exception&) {
      throw Error("exec: invalid --additional-gids \"" + g + "\"");
    }
  }
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = oci::Capabilities{};
    for (auto& c : o.caps) {
      p.capabilities->bounding.push_back(c);
      p.capabilities->effective.push_back(c);
      p.capabilities->permitted.push_back(c);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  return p;
}

// exec --cgroup values, as runc takes them: "path" for every controller, "a,b:path" for
// some. The path is below the container's cgroup: cleaned as a rooted path, ".." cannot
// leave it.
std::map<std::string, std::string> parse_sub_cgroups(const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  for (auto& v : values) {
    auto colon = v.find(':');
    std::string path = colon == std::string::npos ? v : v.substr(colon + 1);
    std::string cleaned = clean_path("/" + path);
    if (cleaned == "/") throw Error("invalid --cgroup argument: " + v);
    std::vector<std::string> controllers = {""};
    if (colon != std::string::npos) controllers = split(v.substr(0, colon), ',');
    for (auto& c : controllers) {
      if (colon != std::string::npos && c.empty()) throw Error("invalid --cgroup argument: " + v);
      if (!out.emplace(c, cleaned.substr(1)).second)
        throw Error("invalid --cgroup argument: " + v + " (duplicate controller)");
    }
  }
  return out;
}

}  // namespace

int Runtime::exec(const std::string& id, const ExecOptions& o) {
  Record rec = load_record(opts_, id);
  Status st = derive_status(opts_, rec);
  if (st == Status::kStopped) throw Error("cannot exec in a stopped container");
  if (st == Status::kPaused && !o.ignore_paused)
    throw Error("cannot exec in a paused container (use --ignore-paused to override)");
  auto below = parse_sub_cgroups(o.cgroups);
  oci::Spec spec = load_container_spec(opts_, id);
  oci::Process proc = build_process(spec, o);
  bool in_user_ns = spec.linux && spec.linux->find_namespace("user");
  ProcessLauncher launcher(proc,
                           spec.linux && spec.linux->seccomp ? &*spec.linux->seccomp : nullptr,
                           in_user_ns, seccomp_cache_dir(opts_));

  ConsoleChannel console;
  if (proc.terminal) console = open_console_channel(o.console_socket, !o.detach);

  std::string base = "/proc/" + std::to_string(rec.pid) + "/ns/";
  std::vector<std::pair<UniqueFd, int>> joins;
  for (auto& ns : kNamespaces) {
    if (same_namespace(base + ns.name, std::string("/proc/self/ns/") + ns.name)) continue;
    UniqueFd fd(::open((base + ns.name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + base + ns.name);
    joins.emplace_back(std::move(fd), ns.flag);
  }
  UniqueFd pidns;
  if (!same_namespace(base + "pid", "/proc/self/ns/pid")) {
    pidns.reset(::open((base + "pid").c_str(), O_RDONLY | O_CLOEXEC));
    if (!pidns) throw_errno("open " + base + "pid");
  }
  auto cgroup = open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root);

  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) throw_errno("socketpair");
  UniqueFd sync(sp[0]), child_sync(sp[1]);
  pid_t pid = fork_into_pid_namespace(pidns.get());
  if (pid == 0) {
    // A caller that takes its signals through a signalfd (berth-shim) has them blocked and
    // ignores SIGPIPE; both would survive execve. The process starts as a fresh one would.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; s++)
      if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    try {
      if (sync_receive(child_sync.get()).type != SyncType::kGo) _exit(1);
      cgroup->join_self(below);
      for (auto& [fd, flag] : joins)
        if (::setns(fd.get(), flag) < 0) throw_errno("join namespace");
      if (proc.terminal) take_terminal(console.child.get(), proc.console_size);
      launcher.resolve_executable();
      launcher.drop_privileges(o.preserve_fds);
      sync_send(child_sync.get(), SyncType::kCreated);
    } catch (const std::exception& e) {
      try {
        sync_send(child_sync.get(), SyncType::kError, e.what());
      } catch (const std::exception&) {
      }
      _exit(1);
    }
    try {
      launcher.exec();
    } catch (const std::exception& e) {
      std::string msg = std::string("berth-runtime: ") + e.what() + "\n";
      [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, msg.data(), msg.size());
      _exit(127);
    }
  }
  child_sync.reset();
  console.child.reset();
  auto fail = [&](const std::string& msg) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw Error(msg);
  };
  try {
    sync_send(sync.get(), SyncType::kGo);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  auto m = sync_receive(sync.get());
  if (m.type == SyncType::kError) fail(m.payload);
  if (m.type != SyncType::kCreated) fail("exec: process exited during setup");
  if (!o.pid_file.empty())
    write_file_atomic(o.pid_file, std::to_string(pid), 0644, Durability::kCrashSafe);
  if (o.detach) return 0;
  if (console.peer) {
    auto master = receive_fd(console.peer.get(), 0, "receive console fd");
    proxy_terminal(master.get());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("wait for exec process");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace berth::runtime
