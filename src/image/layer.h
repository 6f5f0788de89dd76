// Unpacking an image layer (tar; gzip, zstd or plain) into its own directory, with
// Docker/OCI whiteouts turned into overlayfs ones. Hostile archives cannot write outside the
// directory: ".." and absolute paths, writes through symlinks and hard links to outside
// targets are refused; device nodes are not created. On any error the directory is removed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace berth::image {

struct LayerStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // file content written
};

// `dest` must not exist yet; it is created, filled, and removed again when unpacking fails.
LayerStats apply_layer(const std::string& archive_path, const std::string& dest);
// The same from blocks handed over one at a time, so that none is copied again: `next`
// returns the next block, which stays valid until the following call, and an empty one at
// the end.
using BlockFn = std::function<std::string_view()>;
LayerStats apply_layer_blocks(const BlockFn& next, const std::string& dest);

}  // namespace berth::image
