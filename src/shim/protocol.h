// The private protocol between berthd and berth-shim, the monitor of one container.
//
// berthd starts `berth-shim` (setsid, so it outlives berthd) with:
//   --id ID --bundle DIR --runtime-root DIR --socket PATH --state-dir DIR --ready-fd N
//   [--tty] [--stdin] [--stdin-once] [--log-driver json-file|local|none] [--log-path PATH]
//   [--log-opt max-size=10m] [--log-opt max-file=3] [--log-opt compress=true]
//   [--runtime-binary PATH [--runtime-arg=ARG]...]
// The shim creates the container with the runtime library, or with the runtime binary's
// `create` run with `--root <runtime-root>` (its process waits before the user program),
// listens on --socket, then writes one line to --ready-fd and closes it:
//   "ok <pid>\n"  or  "error <message>\n"  (the message Docker users will see).
//
// Requests on the socket: one JSON object per line; each gets one JSON line back. Both sides
// (and the tests) speak it through the typed structs below, never through hand-made JSON:
//   {"op":"start"}                           -> {"ok":true,"pid":N}
//   {"op":"attach","stdin":b,"stdout":b,"stderr":b,"detach_keys":"ctrl-p,ctrl-q"}
//       with one file descriptor passed (SCM_RIGHTS): the client's hijacked HTTP
//       connection. The shim writes the container's output to it (Docker's 8-byte frames
//       [stream,0,0,0,len(4, big-endian)] without a tty, raw bytes with one), reads stdin
//       from it when asked, and closes it when the container exits.
//                                            -> {"ok":true}
//   {"op":"resize","height":H,"width":W}    -> {"ok":true}
//   {"op":"kill","signal":N,"all":b}        -> {"ok":true}
//   {"op":"wait"}                           -> (when the container has exited)
//       {"exit":{"code":N,"finished_at":"RFC3339","oom_killed":b}}
//   {"op":"state"}                          -> {"pid":N,"running":b}
//   {"op":"exec","exec_id":"ID","process":{OCI process},"stdin":b,"stdout":b,"stderr":b,
//    "detach_keys":"ctrl-p,ctrl-q","raw":b}
//       runs a process in the container (`docker exec`); process.terminal gives it a pty,
//       "raw" says how its output goes to the connection: raw bytes, or Docker's frames
//       (dockerd frames by the start request's Tty, not the exec's; absent: as the pty).
//       With one file descriptor passed (the client's hijacked connection) its output goes
//       there as with attach (never to the log), stdin is read from it when asked, and the
//       shim closes it after the last output; without one it runs detached, its output
//       dropped.                         -> {"ok":true,"pid":N}
//       or {"error":"exec: \"x\": executable file not found in $PATH"} when it cannot start.
//   {"op":"exec_wait","exec_id":"ID"}       -> (when the exec has exited) {"exit":{"code":N}}
//   {"op":"exec_resize","exec_id":"ID","height":H,"width":W}  -> {"ok":true}
// Errors: {"error":"message"}.
//
// When the container exits the shim writes <state-dir>/exit.json atomically
// ({"code":N,"finished_at":"...","oom_killed":b}), answers every pending wait, closes the
// attached connections after their last output, deletes the runtime's state and exits. So a
// berthd that was down meanwhile finds the status in exit.json.
//
// From before it creates the container until the runtime's state of it is deleted, the shim
// holds a POSIX write lock on <state-dir>/shim.lock (F_GETLK names its pid). A berthd killed
// in the middle of a start, before it recorded the container as running, learns from it that
// a shim (and maybe the workload) lives, and stops it: nothing runs unseen.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "oci/spec.h"

namespace berth::shim {

inline constexpr const char* kExitFile = "exit.json";
inline constexpr const char* kLockFile = "shim.lock";

// How the container ended: its exit code, when, and whether the kernel's OOM killer was
// involved. The wait's answer, and <state-dir>/exit.json for a berthd that was not there.
struct ExitStatus {
  int code = 0;
  std::string finished_at;  // RFC 3339
  bool oom_killed = false;
  uint64_t oom_kills = 0;  // how many processes the OOM killer took in this run

  nlohmann::json to_json() const;
  // An exit.json of an older shim has no oom_kills: oom_killed then counts as one.
  static ExitStatus from_json(const nlohmann::json& j);
};

struct StartRequest {};
struct AttachRequest {
  bool stdin = false, stdout = false, stderr = false;
  std::string detach_keys;
};
struct ResizeRequest {
  unsigned height = 0, width = 0;
};
struct KillRequest {
  int signal = 0;
  bool all = false;
};
struct WaitRequest {};
struct StateRequest {};
struct ExecRequest {
  std::string exec_id;
  oci::Process process;
  bool stdin = false, stdout = false, stderr = false;
  std::string detach_keys;
  std::optional<bool> raw;  // unset: raw exactly when the process has a terminal
};
struct ExecWaitRequest {
  std::string exec_id;
};
struct ExecResizeRequest {
  std::string exec_id;
  unsigned height = 0, width = 0;
};

using Request = std::variant<StartRequest, AttachRequest, ResizeRequest, KillRequest, WaitRequest,
                             StateRequest, ExecRequest, ExecWaitRequest, ExecResizeRequest>;

// One line of the protocol, without the newline.
std::string encode(const Request& r);
// Throws InvalidArgument naming the op or field that is wrong.
Request decode_request(const nlohmann::json& j);

// The answers.
struct Started {
  pid_t pid = 0;
};
struct ShimState {
  pid_t pid = 0;
  bool running = false;
};

nlohmann::json ok_reply();
nlohmann::json started_reply(const Started& s);
nlohmann::json state_reply(const ShimState& s);
nlohmann::json exit_reply(const ExitStatus& e);
nlohmann::json exec_exit_reply(int code);
nlohmann::json error_reply(const std::string& message);

Started started_of(const nlohmann::json& reply);
ShimState state_of(const nlohmann::json& reply);
ExitStatus exit_of(const nlohmann::json& reply);
int exec_exit_of(const nlohmann::json& reply);

}  // namespace berth::shim
