// The runc verbs on an existing container: start, run, state, list, kill, delete, pause,
// resume, ps, events --stats, update.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "runtime/launch.h"
#include "runtime/sync.h"

namespace berth::runtime {
namespace {

ContainerState to_state(const RuntimeOptions& opts, const Record& rec) {
  ContainerState s;
  s.oci_version = rec.oci_version;
  s.id = rec.id;
  s.status = derive_status(opts, rec);
  s.pid = s.status == Status::kStopped ? 0 : rec.pid;
  s.bundle = rec.bundle;
  s.rootfs = rec.rootfs;
  s.created = rec.created;
  s.owner = rec.owner;
  s.annotations = rec.annotations;
  return s;
}

void run_poststart(const oci::Spec& spec, const Record& rec) {
  if (spec.hooks.poststart.empty()) return;
  try {
    run_hooks(spec.hooks.poststart, state_json(rec, Status::kRunning), "poststart", rec.bundle);
  } catch (const std::exception& e) {
    // The spec says a failing poststart hook is only logged.
    log::warn(e.what());
  }
}

pid_t g_forward_to = 0;
void forward_signal(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

Runtime::Runtime(RuntimeOptions opts) : opts_(std::move(opts)) {}

pid_t Runtime::create(const std::string& id, const CreateOptions& opts) {
  return launch_container(opts_, id, opts, false, false).pid;
}

void Runtime::start(const std::string& id) {
  Record rec = load_record(opts_, id);
  Status st = derive_status(opts_, rec);
  if (st == Status::kStopped) throw Error("cannot start a container that has stopped");
  if (st != Status::kCreated) throw Error("cannot start an already running container");
  // The pidfd first: once the fifo is open the process may run, exit and be reaped by its
  // parent (containerd's shim) before this process is scheduled again.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, rec.pid, 0)));
  if (!pidfd && errno == ESRCH) throw Error("container " + id + " exited before start");
  if (!pidfd) throw_errno("pidfd_open " + std::to_string(rec.pid));
  auto fifo_path = path_join(container_dir(opts_, id), "exec.fifo");
  UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) throw_errno("open " + fifo_path);
  // Either the container's process writes to the fifo, or it died waiting.
  pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll exec fifo");
    }
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents) throw Error("container " + id + " exited before start");
  }
  char c;
  if (::read(fifo.get(), &c, 1) != 1) throw_errno("read exec fifo");
  ::unlink(fifo_path.c_str());
  // End of file comes when the process has exec'd its program (or died trying).
  int flags = ::fcntl(fifo.get(), F_GETFL);
  ::fcntl(fifo.get(), F_SETFL, flags & ~O_NONBLOCK);
  for (;;) {
    ssize_t n = ::read(fifo.get(), &c, 1);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    break;
  }
  run_poststart(load_container_spec(opts_, id), rec);
}

int Runtime::run(const std::string& id, const CreateOptions& opts, bool detach, bool keep) {
  Launched l = launch_container(opts_, id, opts, true, !detach);
  sync_send(l.sync.get(), SyncType::kStart);
  l.sync.reset();
  run_poststart(l.spec, l.record);
  if (detach) return 0;

  g_forward_to = l.pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
    ::sigaction(sig, &sa, nullptr);
  if (l.tty_master) proxy_terminal(l.tty_master.get());
  int status = 0;
  while (::waitpid(l.pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("wait for container " + id);
  }
  g_forward_to = 0;
  if (!keep) remove(id, true);
  return exit_code(status);
}

ContainerState Runtime::state(const std::string& id) const {
  return to_state(opts_, load_record(opts_, id));
}

std::vector<ContainerState> Runtime::list() const {
  std::vector<ContainerState> out;
  auto ids = list_dir(opts_.root);
  std::sort(ids.begin(), ids.end());
  for (auto& id : ids) {
    try {
      out.push_back(to_state(opts_, load_record(opts_, id)));
    } catch (const Error& e) {
      // A container being created or deleted right now has no complete state: skip it.
      log::debug(e.what());
    }
  }
  return out;
}

void Runtime::kill(const std::string& id, int signal, bool all) {
  Record rec = load_record(opts_, id);
  if (derive_status(opts_, rec) == Status::kStopped) throw Error("container not running");
  if (all) {
    auto cg = open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root);
    for (pid_t p : cg->pids()) ::kill(p, signal);
    // Frozen processes only see the signal once thawed; runc does the same for --all.
    if (signal == SIGKILL && cg->frozen()) cg->freeze(false);
    return;
  }
  if (::kill(rec.pid, signal) < 0) throw_errno("kill container " + id);
}

void Runtime::remove(const std::string& id, bool force) {
  if (!container_exists(opts_, id)) {
    if (force) return;
    throw Error("container " + id + " does not exist", ENOENT);
  }
  Record rec = load_record(opts_, id);
  Status st = derive_status(opts_, rec);
  auto cg = open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root);
  if (st == Status::kRunning || st == Status::kPaused) {
    if (!force)
      throw Error("cannot delete container " + id + " that is not stopped: " + status_name(st));
  }
  if (st != Status::kStopped) {
    for (pid_t p : cg->pids()) ::kill(p, SIGKILL);
    if (st == Status::kPaused) cg->freeze(false);
    ::kill(rec.pid, SIGKILL);
    wait_for_exit(rec.pid);
  }
  std::optional<oci::Spec> spec;
  try {
    spec = load_container_spec(opts_, id);
  } catch (const std::exception& e) {
    log::warn("delete " + id + ": " + e.what());
  }
  // Processes that outlive the init (it may have been killed alone) still hold the cgroup.
  for (pid_t p : cg->pids()) ::kill(p, SIGKILL);
  try {
    cg->destroy();
  } catch (const std::exception& e) {
    log::warn("delete " + id + ": " + e.what());
  }
  remove_all(container_dir(opts_, id));
  if (spec && !spec->hooks.poststop.empty()) {
    try {
      run_hooks(spec->hooks.poststop, state_json(rec, Status::kStopped), "poststop", rec.bundle);
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
  }
}

std::vector<pid_t> Runtime::pids(const std::string& id) const {
  Record rec = load_record(opts_, id);
  return open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->pids();
}

void Runtime::pause(const std::string& id) {
  Record rec = load_record(opts_, id);
  Status st = derive_status(opts_, rec);
  if (st != Status::kRunning) throw Error("container not running");
  open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->freeze(true);
}

void Runtime::resume(const std::string& id) {
  Record rec = load_record(opts_, id);
  if (derive_status(opts_, rec) != Status::kPaused) throw Error("container not paused");
  open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->freeze(false);
}

uint64_t Runtime::oom_kills(const std::string& id) const {
  Record rec = load_record(opts_, id);
  return open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->oom_kills();
}

nlohmann::json Runtime::stats(const std::string& id) const {
  Record rec = load_record(opts_, id);
  if (derive_status(opts_, rec) == Status::kStopped) throw Error("container not running");
  return open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->stats();
}

void Runtime::update(const std::string& id, const oci::Resources& resources) {
  Record rec = load_record(opts_, id);
  if (derive_status(opts_, rec) == Status::kStopped) throw Error("container not running");
  open_cgroup(rec.cgroups_path, opts_.cgroup_fs_root)->apply(resources);
}

}  // namespace berth::runtime
