// The engine's volumes: create, inspect, remove and prune, each publishing its own event, and
// the mounts and unmounts that containers make. Which containers use a volume is told by the
// engine (set_users), so the store below never calls up.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "engine/events.h"
#include "volume/volume.h"

namespace berth::engine {

struct VolumePrune {
  std::vector<std::string> deleted;
  uint64_t reclaimed = 0;
};

class VolumeService {
 public:
  VolumeService(volume::VolumeStore& store, EventBus& events);

  // The ids of the containers (any state) whose mounts name the volume.
  void set_users(std::function<std::vector<std::string>(const std::string& name)> users) {
    users_ = std::move(users);
  }
  std::vector<std::string> users(const std::string& name) const { return users_(name); }

  // Docker's create: an existing volume is answered as it is; a new one is a `create` event.
  volume::Volume create(const volume::CreateOptions& opts);
  volume::Volume get(const std::string& name) const { return store_.get(name); }
  std::optional<volume::Volume> find(const std::string& name) const { return store_.find(name); }
  std::vector<volume::Volume> list() const { return store_.list(); }
  // Conflict while a container uses it (force does not change that, as with Docker); with
  // `force` a missing volume is not an error.
  void remove(const std::string& name, bool force);
  // The unused volumes that `selected` picks; only anonymous ones unless `all`.
  VolumePrune prune(bool all, const std::function<bool(const volume::Volume&)>& selected);
  // Bytes in its data, -1 when that is not known now.
  int64_t size(const volume::Volume& v) const { return store_.size(v); }

  // A container's use of a volume: its data made ready (mounted when its options say so),
  // with Docker's `mount` event; returns the directory to bind.
  std::string mount(const volume::Volume& v, const std::string& container_id,
                    const std::string& destination, bool read_only, const std::string& propagation);
  // The volume's data made ready without a container's use of it (a copy into a stopped
  // container's volume).
  std::string data(const volume::Volume& v) { return store_.mount(v); }
  // The container stopped using it: `unmount` event; the options' mount goes with the last
  // running user (`still_used` says whether another running container holds it).
  void unmount(const volume::Volume& v, const std::string& container_id, bool still_used);

  // Held while a container's volumes are chosen and recorded, and while a volume is checked
  // unused and removed: no remove slips between a create's choice and its record.
  std::unique_lock<std::mutex> hold() { return std::unique_lock(mu_); }
  // remove() for a caller that holds hold().
  void remove_held(const std::string& name) { remove_locked(store_.get(name)); }

 private:
  void remove_locked(const volume::Volume& v);

  volume::VolumeStore& store_;
  EventBus& events_;
  std::function<std::vector<std::string>(const std::string&)> users_ = [](const std::string&) {
    return std::vector<std::string>{};
  };
  std::mutex mu_;
};

}  // namespace berth::engine
