// The runtime a container runs with, as berth-shim and berthd drive it: berth's own runtime
// as a library (the default: nothing is exec'd), or another OCI runtime binary (runc, crun)
// driven through its command line, as containerd's shim drives one.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace berth::runtime {

struct RuntimeConfig {
  std::string binary;             // empty: berth's own runtime, as a library
  std::vector<std::string> args;  // the binary's global options (daemon.json runtimeArgs)
  std::string root;               // the runtime's state root (--root)
  // The caller's directory for a binary's log (its error messages are read from it) and for
  // the files a command needs beside it (pid file, exec's process.json).
  std::string work_dir;
};

class OciRuntime {
 public:
  virtual ~OciRuntime() = default;

  // As `runc create`: the caller's fds 0-2 become the container's stdio unless
  // opts.console_socket is set. Returns the pid of the container's process, which is the
  // caller's child with the library and an orphan with a binary: the caller must be a child
  // subreaper to reap it either way.
  virtual pid_t create(const std::string& id, const CreateOptions& opts) = 0;
  virtual void start(const std::string& id) = 0;
  virtual void kill(const std::string& id, int signal, bool all) = 0;
  virtual void remove(const std::string& id, bool force) = 0;
  // Detached only (opts.detach and opts.pid_file set): returns once the process runs, as an
  // orphan of the caller. `process` is the OCI process that opts.process was parsed from,
  // handed as it is to a binary.
  virtual void exec(const std::string& id, const ExecOptions& opts,
                    const nlohmann::json& process) = 0;
  virtual void pause(const std::string& id) = 0;
  virtual void resume(const std::string& id) = 0;
  virtual std::vector<pid_t> pids(const std::string& id) = 0;
  // As `runc update --resources`: linux.resources of the OCI spec, applied to the running
  // container's cgroups.
  virtual void update(const std::string& id, const nlohmann::json& resources) = 0;
};

std::unique_ptr<OciRuntime> open_runtime(const RuntimeConfig& config);

}  // namespace berth::runtime
