// `export`: a container's whole file system as one tar stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace berth::engine {

// Writes a tar of the directory tree at `root` (the container's merged root) to `out`.
void write_rootfs_tar(const std::string& root, const std::function<void(std::string_view)>& out);

}  // namespace berth::engine
