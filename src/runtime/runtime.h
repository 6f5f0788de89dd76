// berth's OCI runtime as a library: the operations of the `runc` command line.
// berth-runtime wires it to a CLI; berth-shim and berthd call it directly.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace berth::runtime {

struct RuntimeOptions {
  std::string root = "/run/berth-runtime";  // where container state lives
  bool systemd_cgroup = false;
  std::string cgroup_fs_root = "/sys/fs/cgroup";
};

struct CreateOptions {
  std::string bundle = ".";
  std::string console_socket;
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* status_name(Status s);

struct ContainerState {
  std::string oci_version;
  std::string id;
  Status status = Status::kStopped;
  pid_t pid = 0;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  std::string owner;
  std::map<std::string, std::string> annotations;

  nlohmann::ordered_json to_json() const;  // keys in the order runc prints them
};

struct ExecOptions {
  std::optional<oci::Process> process;  // from --process; otherwise built from the fields below
  std::vector<std::string> args;
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<std::string> user;  // uid[:gid]
  std::vector<std::string> additional_gids;
  std::vector<std::string> caps;
  bool no_new_privs = false;
  int preserve_fds = 0;
  // --cgroup: "[controller[,controller...]:]path", a sub-cgroup of the container's to run in.
  std::vector<std::string> cgroups;
  bool ignore_paused = false;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions opts);

  // Creates the container; its process waits before the user program until start().
  // Returns the pid of the container's process.
  pid_t create(const std::string& id, const CreateOptions& opts);
  void start(const std::string& id);
  // create + start. Detached: returns 0 once started. Foreground: waits, deletes the
  // container and returns the exit status as a shell reports it (128+signal when killed).
  // With `keep`, a foreground container is left stopped, for the caller to delete.
  int run(const std::string& id, const CreateOptions& opts, bool detach, bool keep = false);
  ContainerState state(const std::string& id) const;
  std::vector<ContainerState> list() const;
  void kill(const std::string& id, int signal, bool all);
  void remove(const std::string& id, bool force);
  // Returns the exit status when foreground, 0 when detached.
  int exec(const std::string& id, const ExecOptions& opts);
  std::vector<pid_t> pids(const std::string& id) const;
  void pause(const std::string& id);
  void resume(const std::string& id);
  nlohmann::json stats(const std::string& id) const;
  // The OOM killer's count in the container's cgroup, for `events` to report new kills.
  uint64_t oom_kills(const std::string& id) const;
  void update(const std::string& id, const oci::Resources& resources);

  const RuntimeOptions& options() const { return opts_; }

 private:
  RuntimeOptions opts_;
};

// "KILL", "SIGKILL", "9" -> 9. Throws on an unknown name.
int parse_signal(const std::string& s);
// Validates a container id as runc does: [A-Za-z0-9_+.-], not "." or "..".
void check_container_id(const std::string& id);

}  // namespace berth::runtime
