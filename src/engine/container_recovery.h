// What a kill -9 of berthd leaves half done, found and finished at its next start: a start
// it did not live to record, a create or a remove stopped half-way.
#pragma once

#include <functional>
#include <set>
#include <string>

namespace berth::engine {

// A shim that a start left behind without its record (its lock is held, see
// shim/protocol.h) is made to kill and delete its container, so that nothing runs unseen
// and the container can start again. A shim that does not answer within `patience_s` is
// killed and `force_delete` deletes the runtime's container. Returns whether there was one.
bool stop_unrecorded_shim(const std::string& bundle_dir, int patience_s,
                          const std::function<void()>& force_delete);

// Calls `remove` on each entry of `dir` named as a container id that is not in `ids`: what
// a create or a remove killed half-way leaves.
void sweep_unowned(
    const std::string& dir, const std::set<std::string>& ids,
    const std::function<void(const std::string& path, const std::string& id)>& remove);

}  // namespace berth::engine
