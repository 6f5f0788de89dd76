// The pieces of a container's OCI spec that come from its typed ContainerSpec: devices and
// resources, each in its own file.
#pragma once

#include <string>
#include <vector>

#include "engine/container_spec.h"
#include "engine/kernel_features.h"
#include "oci/spec.h"

namespace berth::engine {

struct DeviceSet {
  std::vector<oci::DeviceRule> rules;  // linux.resources.devices
  std::vector<oci::Device> nodes;      // linux.devices
};

// Throws InvalidArgument in Docker's words for a --device that is not there.
DeviceSet container_devices(const ContainerSpec& spec);

// linux.resources without the devices: only what this kernel can apply.
oci::Resources container_resources(const Resources& r, const KernelFeatures& k);
// dockerd's warning for each asked-for limit this kernel cannot apply.
std::vector<std::string> resource_warnings(const Resources& r, const KernelFeatures& k);

}  // namespace berth::engine
