// Private to the runtime module: the pieces create/start/exec/delete share.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/spec.h"
#include "runtime/cgroups.h"
#include "runtime/runtime.h"
#include "runtime/security.h"

namespace berth::runtime {

// What the runtime keeps about a container in <root>/<id>/state.json.
struct Record {
  std::string id;
  std::string oci_version;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // guards against pid reuse
  std::string bundle, rootfs, created, owner;
  std::string cgroups_path;
  std::map<std::string, std::string> annotations;
};

std::string container_dir(const RuntimeOptions& opts, const std::string& id);
// Where generated seccomp programs are kept: beside the state root, not in it, where every
// name could be a container id.
std::string seccomp_cache_dir(const RuntimeOptions& opts);
void save_record(const RuntimeOptions& opts, const Record& rec);
// Throws Error("container <id> does not exist") when there is no state.
Record load_record(const RuntimeOptions& opts, const std::string& id);
bool container_exists(const RuntimeOptions& opts, const std::string& id);
Status derive_status(const RuntimeOptions& opts, const Record& rec);
// The config.json the container was created from, kept beside its state.
oci::Spec load_container_spec(const RuntimeOptions& opts, const std::string& id);

// Field 22 of /proc/<pid>/stat; 0 when the process is gone or a zombie.
uint64_t process_start_time(pid_t pid);
// Waits until `pid` has exited (it need not be our child).
void wait_for_exit(pid_t pid);

// The cgroup path a container gets: linux.cgroupsPath, or a default under /berth.
std::string resolve_cgroups_path(const RuntimeOptions& opts, const oci::Spec& spec,
                                 const std::string& id);

// Go's wording of an errno (runc's messages are Go's): strerror with a lowercase first
// letter. The docker CLI matches these words to choose 126 or 127.
std::string go_errno_text(int err);

// Hooks receive the state on stdin and are killed when their timeout passes.
// Those the runtime runs (all but createContainer and startContainer) start in `cwd`: the
// bundle, as runc runs them.
void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, const char* kind,
               const std::string& cwd = "");

// Namespaces.
int namespace_flag(const std::string& type);

// Network. Call in the container's new network namespace, before its program runs.
void bring_up_loopback();

// Mount option strings -> flags, propagation flags and the fs-specific data string.
struct MountOptions {
  unsigned long flags = 0;
  unsigned long clear_flags = 0;  // "rw", "suid", "dev", ... clear what the source had
  std::vector<unsigned long> propagation;
  std::string data;
  bool bind = false;
  bool recursive = false;
  // "rro", "rnosuid", ...: mount_setattr(AT_RECURSIVE) attributes for the mount and every
  // mount below it, as runc and crun apply them.
  uint64_t rec_attr_set = 0, rec_attr_clr = 0;
};
MountOptions parse_mount_options(const std::vector<std::string>& options);

// Prepares the container's root inside its (new) mount namespace, up to and including
// pivot_root, and the paths that come after it.
struct RootfsContext {
  const oci::Spec* spec = nullptr;
  std::string rootfs;  // absolute host path
  bool no_pivot = false;
  bool new_user_ns = false;
  const Cgroup* cgroup = nullptr;
  // For a new user namespace: per spec.mounts entry, the bind source opened by the runtime
  // (open_tree), or an empty fd. Empty when there is no new user namespace.
  const std::vector<UniqueFd>* mount_sources = nullptr;
};
bool is_bind_mount(const oci::Mount& m);
// The bind sources of `spec`, cloned by the runtime before the container's process enters a
// new user namespace, whose root may not be able to reach them (runc's mount fds).
std::vector<UniqueFd> open_bind_sources(const oci::Spec& spec);
void prepare_rootfs(const RootfsContext& ctx);
void enter_rootfs(const RootfsContext& ctx);
void finish_rootfs(const RootfsContext& ctx);
// Writes linux.sysctl through /proc/sys in the container's namespaces (before pivot_root).
void apply_sysctl(const oci::Spec& spec);

// Terminals.
struct Pty {
  UniqueFd master;
  std::string slave_path;
};
Pty open_pty(const std::optional<oci::ConsoleSize>& size);
// Makes `slave_path` the controlling terminal and stdio of the calling process.
void attach_to_pty(const std::string& slave_path);
// In the container process: makes a pty, sends its master on `channel` and makes the slave
// its controlling terminal and stdio. Returns the slave's path.
std::string take_terminal(int channel, const std::optional<oci::ConsoleSize>& size);
UniqueFd connect_unix(const std::string& path);
// Where the container's pty master goes: `child` is the socket its process sends it on;
// `peer` is where a foreground runtime receives it to proxy, empty when it goes to the
// caller's console socket. Without a console socket only a foreground caller can proxy.
struct ConsoleChannel {
  UniqueFd child, peer;
};
ConsoleChannel open_console_channel(const std::string& console_socket, bool foreground);
// Copies between our stdio and the pty master until the master closes (foreground tty).
void proxy_terminal(int master);

// The final steps of any container process, shared by the init and by exec:
// rlimits, user, capabilities, no_new_privs, seccomp, then execve.
class ProcessLauncher {
 public:
  // Builds the seccomp filter (its program cached in `seccomp_cache`) and checks capability
  // names, so that bad config fails early.
  ProcessLauncher(const oci::Process& process, const oci::Seccomp* seccomp, bool in_user_ns,
                  const std::string& seccomp_cache);
  ~ProcessLauncher();
  // Finds args[0] in the container's PATH; call once the container's root is in place.
  void resolve_executable();
  // Marks every fd past stdio and the `preserve_fds` after it close-on-exec, then drops
  // privileges; loads the seccomp filter here unless no_new_privs lets it wait.
  void drop_privileges(int preserve_fds);
  // Loads the seccomp filter if drop_privileges left it for later; startContainer hooks run
  // after this, under the container's filter.
  void load_seccomp();
  [[noreturn]] void exec();

 private:
  const oci::Process& process_;
  std::unique_ptr<SeccompFilter> seccomp_;
  bool in_user_ns_;
  std::string executable_;
};

}  // namespace berth::runtime
