// What run, start -a and attach share: attaching to a container's streams, waiting for its
// exit on a second connection, starting it, and docker's exit statuses for each outcome.
#pragma once

#include <string>

#include "cli/command.h"

namespace berth::cli {

struct AttachPlan {
  std::string id;
  bool tty = false;
  bool in = false, out = true, err = true;
  bool sig_proxy = true;
  std::string detach_keys;     // as typed: "ctrl-p,ctrl-q"; empty: docker's default
  std::string wait_condition;  // "next-exit", "removed", "" (not-running)
  bool start = false;
  const char* command = "run";  // names the command in docker's "Run '... --help'" hint
};

// Attaches, waits, starts if asked, streams, and returns the exit status docker's CLI would:
// the container's own status, 0 on detach (1 for `attach`), 125-127 when start fails.
int attach_and_wait(Context& ctx, const AttachPlan& plan);

// docker's toStatusError: 127 for a missing executable or file, 126 for permission
// problems, else 125.
int start_error_status(const std::string& message);

// "berth: <message>\n\nRun 'berth <command> --help' for more information" on stderr.
void report_run_error(const std::string& command, const std::string& message);

}  // namespace berth::cli
