// The devices controller: v1's allow and deny lists; on v2 an eBPF program (device_filter.cc).
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

void apply_v1(const std::string& dir, const oci::Resources& r) {
  for (auto& d : r.devices) {
    std::string value = d.type == "a" || d.type.empty()
                            ? "a"
                            : d.type + " " + device_numbers(d.major, d.minor) + " " + d.access;
    write_control(dir, d.allow ? "devices.allow" : "devices.deny", value);
  }
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  if (!r.devices.empty()) attach_device_filter(dir, r.devices);
}

}  // namespace

const Controller kDevicesV1{"devices", apply_v1, nullptr};
const Controller kDevicesV2{"devices", apply_v2, nullptr};

}  // namespace berth::runtime
