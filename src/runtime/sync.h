// Messages between the runtime and the container's first process during create, over a
// SOCK_SEQPACKET pair so that each message arrives whole.
#pragma once

#include <cstdint>
#include <string>

namespace berth::runtime {

enum class SyncType : uint32_t {
  kEof = 0,
  kGo,          // parent -> child: ids mapped, cgroup joined; payload: state JSON
  kHooksReady,  // child -> parent: mounts done, run prestart/createRuntime hooks now
  kHooksDone,   // parent -> child
  kCreated,     // child -> parent: waiting for start
  kError,       // child -> parent; payload: the message
  kStart,       // parent -> child (run only; create/start use the exec fifo)
};

struct SyncMessage {
  SyncType type = SyncType::kEof;
  std::string payload;
};

void sync_send(int fd, SyncType type, const std::string& payload = {});
SyncMessage sync_receive(int fd);

}  // namespace berth::runtime
