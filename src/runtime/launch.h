// Private to the runtime module: creating a container's first process.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/fd.h"
#include "runtime/internal.h"

namespace berth::runtime {

struct Launched {
  pid_t pid = -1;
  UniqueFd sync;        // to send kStart when `run` skips the exec fifo
  UniqueFd tty_master;  // foreground `run` with a terminal and no console socket
  oci::Spec spec;
  Record record;
};

// Creates the container. With `run_mode` its process waits for kStart on `sync` instead of
// the exec fifo; `foreground` lets a terminal be proxied instead of needing a console socket.
Launched launch_container(const RuntimeOptions& ropts, const std::string& id,
                          const CreateOptions& opts, bool run_mode, bool foreground);

// The container's state as hooks and `state` print it.
std::string state_json(const Record& rec, Status status);

}  // namespace berth::runtime
