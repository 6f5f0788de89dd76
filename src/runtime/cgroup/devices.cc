// The devices controller: v1's allow and deny lists; on v2 an eBPF program (device_filter.cc).
#include <algorithm>

#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

// A rule of type `a` replaces the whole list (the kernel reads "a..." as allow or deny all,
// whatever follows), so the rules before the last one have no effect. Writing them anyway
// is not harmless: an allow-all that a later deny-all cancels is refused with EPERM below a
// parent that denies (a nested container), and an eBPF program would carry dead blocks.
// runc's device emulator reduces the list the same way.
std::vector<oci::DeviceRule> effective_rules(const std::vector<oci::DeviceRule>& rules) {
  auto last_all = std::find_if(rules.rbegin(), rules.rend(), [](const oci::DeviceRule& d) {
    return d.type == "a" || d.type.empty();
  });
  if (last_all == rules.rend()) return rules;
  return {std::prev(last_all.base()), rules.end()};
}

void apply_v1(const std::string& dir, const oci::Resources& r) {
  for (auto& d : effective_rules(r.devices)) {
    std::string value = d.type == "a" || d.type.empty()
                            ? "a"
                            : d.type + " " + device_numbers(d.major, d.minor) + " " + d.access;
    write_control(dir, d.allow ? "devices.allow" : "devices.deny", value);
  }
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  if (!r.devices.empty()) attach_device_filter(dir, effective_rules(r.devices));
}

}  // namespace

const Controller kDevicesV1{"devices", apply_v1, nullptr};
const Controller kDevicesV2{"devices", apply_v2, nullptr};

}  // namespace berth::runtime
