// The last steps before the user's program runs, in the order the kernel demands:
// rlimits (needs privilege), groups and ids (keeping caps), capabilities, no_new_privs,
// seccomp, exec.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/internal.h"

namespace berth::runtime {
namespace {

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return "";
}

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Marks every fd from `first` up close-on-exec, so that nothing the caller (or we) opened
// reaches the container's program. Done before any seccomp filter is loaded, which may deny
// close_range; kernels without close_range get a walk of /proc/self/fd.
void close_inherited_fds(int first) {
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  int err = errno;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir)
    throw Error("close inherited fds: close_range: " + std::string(std::strerror(err)) +
                ", and /proc/self/fd cannot be read: " + std::strerror(errno));
  int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || end == e->d_name || fd < first || fd == own) continue;
    if (::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) {
      int ferr = errno;
      ::closedir(dir);
      throw_errno("close inherited fd " + std::to_string(fd), ferr);
    }
  }
  ::closedir(dir);
}

// The process's stdio (its terminal, or the caller's pipes) becomes its user's, as runc
// does, so that a non-root process can reopen or chmod its own terminal. Only the owner
// changes: the group is the one devpts gives (tty, by the gid= option). /dev/null and what
// the user already owns are left, and EPERM/EINVAL (an id unmapped in a user namespace, a
// file the caller keeps) are not failures.
void give_stdio_to(uid_t uid) {
  struct stat null_st {};
  if (::stat("/dev/null", &null_st) < 0) throw_errno("stat /dev/null");
  for (int fd = 0; fd < 3; fd++) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;
      throw_errno("fstat fd " + std::to_string(fd));
    }
    if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev)) continue;
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) < 0 && errno != EPERM && errno != EINVAL)
      throw_errno("chown fd " + std::to_string(fd) + " to " + std::to_string(uid));
  }
}

}  // namespace

std::string go_errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

ProcessLauncher::ProcessLauncher(const oci::Process& process, const oci::Seccomp* seccomp,
                                 bool in_user_ns, const std::string& seccomp_cache)
    : process_(process), in_user_ns_(in_user_ns) {
  if (process.args.empty()) throw Error("invalid config: process.args: args must not be empty");
  if (process.capabilities) check_capabilities(*process.capabilities);
  for (auto& r : process.rlimits) rlimit_resource(r.type);
  if (seccomp) seccomp_ = std::make_unique<SeccompFilter>(*seccomp, seccomp_cache);
}

ProcessLauncher::~ProcessLauncher() = default;

void ProcessLauncher::resolve_executable() {
  const std::string& name = process_.args[0];
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (::stat(name.c_str(), &st) < 0)
      throw Error("exec: \"" + name + "\": stat " + name + ": " + go_errno_text(errno), errno);
    int err = S_ISDIR(st.st_mode) ? EISDIR : ::access(name.c_str(), X_OK) < 0 ? errno : 0;
    if (err) throw Error("exec: \"" + name + "\": " + go_errno_text(err), err);
    executable_ = name;
    return;
  }
  std::string path = env_value(process_.env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& dir : split(path, ':')) {
    auto candidate = path_join(dir.empty() ? "." : dir, name);
    if (is_executable_file(candidate)) {
      executable_ = candidate;
      return;
    }
  }
  throw Error("exec: \"" + name + "\": executable file not found in $PATH", ENOENT);
}

void ProcessLauncher::drop_privileges(int preserve_fds) {
  close_inherited_fds(3 + preserve_fds);
  apply_rlimits(process_.rlimits);
  if (seccomp_ && !process_.no_new_privileges) {
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the switch below
    // may drop: load it now, as runc does.
    load_seccomp();
  }
  const auto& u = process_.user;
  give_stdio_to(u.uid);
  // setgroups is denied in a user namespace whose gid_map was written with setgroups=deny.
  if (::setgroups(u.additional_gids.size(), u.additional_gids.data()) < 0 &&
      !(in_user_ns_ && errno == EPERM))
    throw_errno("setgroups");
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) throw_errno("prctl keepcaps");
  if (::setresgid(u.gid, u.gid, u.gid) < 0) throw_errno("setgid " + std::to_string(u.gid));
  if (::setresuid(u.uid, u.uid, u.uid) < 0) throw_errno("setuid " + std::to_string(u.uid));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) throw_errno("prctl keepcaps");
  ::umask(u.umask.value_or(0022));
  if (::chdir(process_.cwd.c_str()) < 0) throw_errno("chdir to cwd (\"" + process_.cwd + "\")");
  if (process_.capabilities) apply_capabilities(*process_.capabilities);
  if (process_.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    throw_errno("prctl no_new_privs");
}

void ProcessLauncher::load_seccomp() {
  if (!seccomp_) return;
  seccomp_->load();
  seccomp_.reset();
}

void ProcessLauncher::exec() {
  load_seccomp();
  std::vector<char*> argv, envp;
  for (auto& a : process_.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : process_.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(executable_.c_str(), argv.data(), envp.data());
  int err = errno;
  throw Error("exec: \"" + process_.args[0] + "\": " + go_errno_text(err), err);
}

}  // namespace berth::runtime
