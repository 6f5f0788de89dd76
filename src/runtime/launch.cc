// create: the runtime side (bundle, state, cgroup, clone, hooks) and the container side
// (namespaces, rootfs, terminal, privileges), talking over a seqpacket pair.
#include "runtime/launch.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "runtime/namespaces.h"
#include "runtime/sync.h"

namespace berth::runtime {
namespace {

// The devices every container may use, as runc allows them, after the config's own rules.
// Not the host's console (5:1): a terminal's /dev/console is its pty, bound there.
// The nodes of linux.devices get nothing more: the config's rules say what they may do, so
// a deny-all stays a deny-all (runc's and crun's behaviour).
std::vector<oci::DeviceRule> default_device_rules() {
  auto rule = [](const char* type, std::optional<int64_t> maj, std::optional<int64_t> min,
                 const char* access) {
    oci::DeviceRule r;
    r.allow = true;
    r.type = type;
    r.major = maj;
    r.minor = min;
    r.access = access;
    return r;
  };
  std::vector<oci::DeviceRule> rules = {rule("c", std::nullopt, std::nullopt, "m"),
                                        rule("b", std::nullopt, std::nullopt, "m"),
                                        rule("c", 1, 3, "rwm"),
                                        rule("c", 1, 5, "rwm"),
                                        rule("c", 1, 7, "rwm"),
                                        rule("c", 1, 8, "rwm"),
                                        rule("c", 1, 9, "rwm"),
                                        rule("c", 5, 0, "rwm"),
                                        rule("c", 5, 2, "rwm"),
                                        rule("c", 136, std::nullopt, "rwm"),
                                        rule("c", 10, 200, "rwm")};
  return rules;
}

// runc's words for a rootfs that is not there, which callers show as they are.
std::string rootfs_path(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) {
    int err = errno;
    throw Error("invalid rootfs: stat " + path + ": " + go_errno_text(err), err);
  }
  return buf;
}

std::string real_path(const std::string& path, const char* what) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) throw_errno(std::string(what) + " " + path);
  return buf;
}

// Everything the container's first process needs; it lives in the parent's memory and is
// inherited by the clone.
struct InitContext {
  const oci::Spec* spec;
  const CreateOptions* opts;
  std::string rootfs;
  bool run_mode;
  int sync_fd;
  int state_dirfd;
  int console_fd;
  const Cgroup* cgroup;
  NamespacePlan* plan;
  ProcessLauncher* launcher;
  const std::vector<UniqueFd>* mount_sources;
};

void set_names(const oci::Spec& spec) {
  bool uts = spec.linux->find_namespace("uts") != nullptr;
  if ((!spec.hostname.empty() || !spec.domainname.empty()) && !uts)
    throw Error("invalid config: hostname: needs a uts namespace of the container's own");
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
    throw_errno("sethostname " + spec.hostname);
  if (!spec.domainname.empty() &&
      ::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0)
    throw_errno("setdomainname " + spec.domainname);
}

void setup_terminal(const InitContext& c) {
  std::string slave = take_terminal(c.console_fd, c.spec->process->console_size);
  // Programs that open /dev/console expect the container's terminal there.
  if (path_exists("/dev")) {
    int fd = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      ::close(fd);
      if (::mount(slave.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0)
        throw_errno("bind " + slave + " on /dev/console");
    }
  }
}

// A new time namespace only takes in the children of whoever made it, and its offsets must
// be set before any process is in it: so the runtime makes it, sets the offsets, then clones.
void enter_time_namespace(const oci::Linux& linux) {
  if (::unshare(CLONE_NEWTIME) < 0) throw_errno("unshare time namespace");
  std::string offsets;
  for (auto& [clock, ns] : linux.time_offsets) {
    int64_t secs = ns / 1000000000, nanos = ns % 1000000000;
    if (nanos < 0) {
      secs -= 1;
      nanos += 1000000000;
    }
    offsets += clock + " " + std::to_string(secs) + " " + std::to_string(nanos) + "\n";
  }
  if (offsets.empty()) return;
  try {
    write_file("/proc/self/timens_offsets", offsets);
  } catch (const std::exception& e) {
    rethrow_with_context(e, "linux.timeOffsets");
  }
}

void join_session_keyring() {
  // A fresh session keyring keeps the container away from the host's keys; kernels or
  // seccomp profiles without keyctl are not an error, as with runc.
  constexpr long kKeyctlJoinSessionKeyring = 1;
  if (::syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, nullptr) < 0 && errno != ENOSYS &&
      errno != EPERM && errno != EACCES)
    throw_errno("join session keyring");
}

[[noreturn]] void container_init(const InitContext& c) {
  std::string state;
  int fifo = -1;
  try {
    auto go = sync_receive(c.sync_fd);
    if (go.type != SyncType::kGo) _exit(1);
    state = go.payload;
    const auto& spec = *c.spec;
    bool new_user = c.plan->new_flags & CLONE_NEWUSER;
    // Joining itself is the fast way in; a process in a new user namespace may no longer
    // write the host's cgroup files, so the parent moves that one.
    if (!new_user) c.cgroup->join_self();
    join_namespaces(*c.plan, false);
    if (new_user) {
      if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
        throw_errno("become root in the user namespace (is uid 0 mapped?)");
    }
    // The cgroup namespace comes after joining our cgroup, so that the container sees that
    // cgroup as its root.
    int unshare_flags = c.plan->new_flags & ~(CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWTIME);
    if (unshare_flags && ::unshare(unshare_flags) < 0) throw_errno("unshare namespaces");
    if (unshare_flags & CLONE_NEWNET) bring_up_loopback();
    set_names(spec);
    ::umask(0);
    RootfsContext rctx{&spec,    c.rootfs, c.opts->no_pivot,
                       new_user, c.cgroup, new_user ? c.mount_sources : nullptr};
    prepare_rootfs(rctx);
    apply_sysctl(spec);
    if (!spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty()) {
      sync_send(c.sync_fd, SyncType::kHooksReady);
      if (sync_receive(c.sync_fd).type != SyncType::kHooksDone) _exit(1);
    }
    // runc runs them from the rootfs, before pivot_root: relative paths in them mean the
    // container's files.
    if (!spec.hooks.create_container.empty() && ::chdir(c.rootfs.c_str()) < 0)
      throw_errno("chdir " + c.rootfs);
    run_hooks(spec.hooks.create_container, state, "createContainer");
    enter_rootfs(rctx);
    if (spec.process->terminal) setup_terminal(c);
    finish_rootfs(rctx);
    c.launcher->resolve_executable();
    if (!c.opts->no_new_keyring) join_session_keyring();
    c.launcher->drop_privileges(c.opts->preserve_fds);
    sync_send(c.sync_fd, SyncType::kCreated);
    if (c.run_mode) {
      if (sync_receive(c.sync_fd).type != SyncType::kStart) _exit(1);
    } else {
      // Blocks until `start` opens the fifo for reading.
      fifo = ::openat(c.state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
      if (fifo < 0) throw_errno("open exec fifo");
    }
    ::close(c.sync_fd);
  } catch (const std::exception& e) {
    try {
      sync_send(c.sync_fd, SyncType::kError, e.what());
    } catch (const std::exception&) {
    }
    _exit(1);
  }
  // From here the parent is gone: errors can only be told on the container's stderr.
  try {
    // The hooks run confined as the program will be, under its seccomp filter too.
    c.launcher->load_seccomp();
    run_hooks(c.spec->hooks.start_container, state, "startContainer");
    // `start` reads this byte, then waits for the fifo to close, which the exec below does
    // (close-on-exec): so start returns, and poststart hooks run, once the program runs.
    if (fifo >= 0) write_all(fifo, "0");
    c.launcher->exec();
  } catch (const std::exception& e) {
    std::string msg = std::string("berth-runtime: ") + e.what() + "\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
}

// Undoes a half-made container on any error: the process, the cgroup, the state directory.
class CreateGuard {
 public:
  explicit CreateGuard(std::string dir) : dir_(std::move(dir)) {}
  ~CreateGuard() {
    if (committed_) return;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    try {
      if (cgroup_) cgroup_->destroy();
    } catch (const std::exception& e) {
      log::warn(std::string("cleanup: ") + e.what());
    }
    try {
      remove_all(dir_);
    } catch (const std::exception& e) {
      log::warn(std::string("cleanup: ") + e.what());
    }
  }
  void set_pid(pid_t pid) { pid_ = pid; }
  // The guard owns the cgroup so that it is still there when the guard cleans up.
  Cgroup* adopt_cgroup(std::unique_ptr<Cgroup> cg) {
    cgroup_ = std::move(cg);
    return cgroup_.get();
  }
  void commit() { committed_ = true; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  std::unique_ptr<Cgroup> cgroup_;
  bool committed_ = false;
};

}  // namespace

std::string state_json(const Record& rec, Status status) {
  ContainerState s;
  s.oci_version = rec.oci_version;
  s.id = rec.id;
  s.status = status;
  s.pid = status == Status::kStopped ? 0 : rec.pid;
  s.bundle = rec.bundle;
  s.rootfs = rec.rootfs;
  s.created = rec.created;
  s.owner = rec.owner;
  s.annotations = rec.annotations;
  return s.to_json().dump();
}

Launched launch_container(const RuntimeOptions& ropts, const std::string& id,
                          const CreateOptions& opts, bool run_mode, bool foreground) {
  std::string dir = container_dir(ropts, id);
  mkdir_p(ropts.root, 0711);
  if (::mkdir(dir.c_str(), 0711) < 0) {
    if (errno == EEXIST) throw Error("container with id exists: " + id, EEXIST);
    throw_errno("mkdir " + dir);
  }
  CreateGuard guard(dir);

  Launched out;
  Record& rec = out.record;
  rec.id = id;
  rec.bundle = real_path(opts.bundle, "bundle");
  std::string config_text = read_file(path_join(rec.bundle, "config.json"));
  out.spec = oci::parse_spec(config_text);
  const oci::Spec& spec = out.spec;
  if (!spec.process) throw Error("invalid config: process property must not be empty");
  if (!spec.linux) throw Error("invalid config: linux: required");
  if (!spec.linux->find_namespace("mount"))
    throw Error("invalid config: linux.namespaces: a mount namespace is required");
  rec.oci_version = spec.oci_version;
  rec.annotations = spec.annotations;
  rec.rootfs = rootfs_path(spec.root.path[0] == '/' ? spec.root.path
                                                    : path_join(rec.bundle, spec.root.path));
  write_file(path_join(dir, "config.json"), config_text, O_CREAT | O_TRUNC);

  ProcessLauncher launcher(*spec.process, spec.linux->seccomp ? &*spec.linux->seccomp : nullptr,
                           spec.linux->find_namespace("user") != nullptr, seccomp_cache_dir(ropts));
  NamespacePlan plan = plan_namespaces(*spec.linux);

  ConsoleChannel console;
  if (spec.process->terminal)
    console = open_console_channel(opts.console_socket, run_mode && foreground);

  if (!run_mode) {
    auto fifo = path_join(dir, "exec.fifo");
    // Opened for writing by the container's process once it is the process's user, which
    // may be anyone: 0622 whatever the caller's umask (as runc makes it).
    if (::mkfifo(fifo.c_str(), 0622) < 0) throw_errno("mkfifo " + fifo);
    if (::chmod(fifo.c_str(), 0622) < 0) throw_errno("chmod " + fifo);
  }
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) throw_errno("open " + dir);

  rec.cgroups_path = resolve_cgroups_path(ropts, spec, id);
  Cgroup* cgroup = guard.adopt_cgroup(open_cgroup(rec.cgroups_path, ropts.cgroup_fs_root));
  cgroup->create();
  // A process joining a frozen cgroup would stop there, and create with it (runc's check).
  if (cgroup->frozen()) throw Error("container's cgroup unexpectedly frozen");
  // Sharing a cgroup means sharing its limits, and delete --force kills every process in it.
  if (auto others = cgroup->pids(); !others.empty())
    log::warn("container's cgroup is not empty: " + std::to_string(others.size()) +
              " process(es) found");
  oci::Resources resources = spec.linux->resources.value_or(oci::Resources{});
  for (auto& r : default_device_rules()) resources.devices.push_back(r);
  try {
    cgroup->apply(resources);
  } catch (const std::exception& e) {
    rethrow_with_context(e, "linux.resources");
  }

  // The user namespace's root may not reach the sources that the host's root can.
  std::vector<UniqueFd> mount_sources;
  if (plan.new_flags & CLONE_NEWUSER) mount_sources = open_bind_sources(spec);

  join_namespaces(plan, true);
  if (plan.new_flags & CLONE_NEWTIME) enter_time_namespace(*spec.linux);
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) throw_errno("socketpair");
  out.sync.reset(sp[0]);
  UniqueFd child_sync(sp[1]);

  int clone_flags = plan.new_flags & (CLONE_NEWPID | CLONE_NEWUSER);
  pid_t pid = clone_flags
                  ? static_cast<pid_t>(::syscall(SYS_clone, clone_flags | SIGCHLD, 0, 0, 0, 0))
                  : ::fork();
  if (pid < 0) throw_errno("clone container process");
  if (pid == 0) {
    InitContext c{&spec,
                  &opts,
                  rec.rootfs,
                  run_mode,
                  child_sync.get(),
                  dirfd.get(),
                  console.child.get(),
                  cgroup,
                  &plan,
                  &launcher,
                  &mount_sources};
    container_init(c);
  }
  guard.set_pid(pid);
  child_sync.reset();
  console.child.reset();
  mount_sources.clear();
  rec.pid = pid;

  if (plan.new_flags & CLONE_NEWUSER) {
    write_id_mappings(pid, *spec.linux);
    cgroup->add_process(pid);
  }
  if (spec.process->oom_score_adj)
    write_file("/proc/" + std::to_string(pid) + "/oom_score_adj",
               std::to_string(*spec.process->oom_score_adj));
  rec.created = now_rfc3339();
  std::string creating = state_json(rec, Status::kCreating);
  sync_send(out.sync.get(), SyncType::kGo, creating);

  for (;;) {
    auto m = sync_receive(out.sync.get());
    if (m.type == SyncType::kCreated) break;
    if (m.type == SyncType::kError) throw Error(m.payload);
    if (m.type != SyncType::kHooksReady) throw Error("container process exited during create");
    run_hooks(spec.hooks.prestart, creating, "prestart", rec.bundle);
    run_hooks(spec.hooks.create_runtime, creating, "createRuntime", rec.bundle);
    sync_send(out.sync.get(), SyncType::kHooksDone);
  }
  if (console.peer) out.tty_master = receive_fd(console.peer.get(), 0, "receive console fd");
  rec.pid_start_time = process_start_time(pid);
  save_record(ropts, rec);
  if (!opts.pid_file.empty())
    write_file_atomic(opts.pid_file, std::to_string(pid), 0644, Durability::kCrashSafe);
  guard.commit();
  out.pid = pid;
  return out;
}

}  // namespace berth::runtime
