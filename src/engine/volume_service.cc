#include "engine/volume_service.h"

#include "base/error.h"

namespace berth::engine {
namespace {

Event volume_event(const std::string& action, const volume::Volume& v,
                   std::map<std::string, std::string> extra = {}) {
  extra["driver"] = v.driver;
  return Event{"volume", action, v.name, std::move(extra), 0};
}

}  // namespace

VolumeService::VolumeService(volume::VolumeStore& store, EventBus& events)
    : store_(store), events_(events) {}

volume::Volume VolumeService::create(const volume::CreateOptions& opts) {
  bool created = false;
  auto v = store_.create(opts, &created);
  if (created) events_.publish(volume_event("create", v));
  return v;
}

void VolumeService::remove_locked(const volume::Volume& v) {
  auto using_it = users_(v.name);
  if (!using_it.empty()) {
    std::string ids;
    for (auto& id : using_it) ids += (ids.empty() ? "" : " ") + id;
    throw Conflict("remove " + v.name + ": volume is in use - [" + ids + "]");
  }
  store_.remove(v.name);
  events_.publish(volume_event("destroy", v));
}

void VolumeService::remove(const std::string& name, bool force) {
  auto lock = hold();
  auto v = store_.find(name);
  if (!v) {
    if (force) return;
    throw NotFound("get " + name + ": no such volume");
  }
  remove_locked(*v);
}

VolumePrune VolumeService::prune(bool all,
                                 const std::function<bool(const volume::Volume&)>& selected) {
  auto lock = hold();
  VolumePrune out;
  for (auto& v : store_.list()) {
    if (!all && !v.anonymous()) continue;
    if (!selected(v) || !users_(v.name).empty()) continue;
    int64_t bytes = store_.size(v);
    remove_locked(v);
    out.deleted.push_back(v.name);
    if (bytes > 0) out.reclaimed += static_cast<uint64_t>(bytes);
  }
  return out;
}

std::string VolumeService::mount(const volume::Volume& v, const std::string& container_id,
                                 const std::string& destination, bool read_only,
                                 const std::string& propagation) {
  std::string dir = store_.mount(v);
  events_.publish(volume_event("mount", v,
                               {{"container", container_id},
                                {"destination", destination},
                                {"propagation", propagation},
                                {"read/write", read_only ? "false" : "true"}}));
  return dir;
}

void VolumeService::unmount(const volume::Volume& v, const std::string& container_id,
                            bool still_used) {
  if (!still_used) store_.unmount(v);
  events_.publish(volume_event("unmount", v, {{"container", container_id}}));
}

}  // namespace berth::engine
