// `docker exec`: processes run in a running container beside its own. The records live in
// berthd's memory only (as dockerd's do); the container's shim runs, serves and reaps the
// processes (src/shim/protocol.h, op "exec").
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "engine/events.h"
#include "engine/manager.h"
#include "engine/shim_client.h"

namespace berth::engine {

struct ExecRecord {
  std::string id;  // 64 hex
  std::string container_id;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user, working_dir, detach_keys;
  bool tty = false, attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool privileged = false;
  // The start request's Tty: raw output to the client, else Docker's frames (as dockerd
  // decides, whatever Tty the exec was created with).
  bool raw_stream = false;
  unsigned height = 0, width = 0;  // ConsoleSize; 0: the terminal's default
  bool started = false, running = false;
  std::optional<int> exit_code;
  int pid = 0;

  // GET /exec/{id}/json, as dockerd answers it.
  nlohmann::json inspect() const;
};

// POST /containers/{id}/exec's ExecConfig (its field names already checked) as a record with
// neither id nor container yet. Throws InvalidArgument in Docker's words; a pure function, so
// that it can be tested and fuzzed without a daemon.
ExecRecord decode_exec_config(const nlohmann::json& config);
// A JSON string, or the strings of an array (other values skipped), as a list.
std::vector<std::string> exec_strings(const nlohmann::json& j);

class ExecManager : public std::enable_shared_from_this<ExecManager> {
 public:
  ExecManager(ContainerManager& containers, EventBus& events)
      : containers_(containers), events_(events) {}

  // POST /containers/{id}/exec with Docker's ExecConfig; returns the exec's id. Throws
  // Conflict when the container is not running, InvalidArgument without a command.
  std::string create(const std::string& container_ref, const nlohmann::json& config);
  // Throws NotFound "No such exec instance: ID".
  ExecRecord get(const std::string& id) const;
  // The container's execs that have not finished (inspect's ExecIDs).
  std::vector<std::string> live_ids(const std::string& container_id) const;
  // POST /exec/{id}/start, the checks made before the connection is hijacked: marks the exec
  // started (a second start is a Conflict) and takes the start body's ConsoleSize.
  ExecRecord begin_start(const std::string& id, const nlohmann::json& start);
  // Runs a begun exec. With `conn` (the hijacked connection) it returns once the exec has
  // exited and its code is recorded, so that the client, which asks for the code as soon as
  // its stream ends, finds it; an exec that cannot start has its error written to `conn`.
  // Without `conn` (Detach) it returns once the process runs, and throws when it cannot.
  void run(const std::string& id, UniqueFd conn);
  // Waits (up to 10 s, as dockerd) for the exec to start; a finished exec ignores it.
  void resize(const std::string& id, int height, int width);
  // The OCI process of a health probe: `cmd` as the container's user, in its working
  // directory, with its environment, no terminal (as dockerd runs HEALTHCHECK commands).
  oci::Process probe_process(const Container& c, const std::vector<std::string>& cmd) const;
  // A health probe the health monitor runs: listed in the container's ExecIDs and inspectable
  // while it runs, as dockerd's, and forgotten when it ends.
  void add_probe(const std::string& id, const std::string& container_id,
                 const std::vector<std::string>& cmd);
  void remove_probe(const std::string& id);

 private:
  oci::Process exec_process(const ExecRecord& r, const Container& c) const;
  void wait_exit(const std::string& id, ShimConnection& shim);
  void finish(const std::string& id, int code);
  void event(const std::string& container_id, const std::string& action,
             std::map<std::string, std::string> attrs);
  std::string shim_socket(const std::string& container_id) const;

  ContainerManager& containers_;
  EventBus& events_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, ExecRecord> execs_;
};

}  // namespace berth::engine
