// The local driver's options (type, device, o), as `mount -t TYPE -o O DEVICE DIR` takes them.
#pragma once

#include <map>
#include <string>

namespace berth::volume {

// InvalidArgument in Docker's words for an unknown option or a missing companion.
void check_local_options(const std::map<std::string, std::string>& opts);
void mount_local(const std::map<std::string, std::string>& opts, const std::string& target);
void unmount_local(const std::string& target);

}  // namespace berth::volume
