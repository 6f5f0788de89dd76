// `diff`: what a container changed in its image's filesystem, read from its writable layer.
#pragma once

#include <string>
#include <vector>

namespace berth::engine {

// Docker's kinds: 0 modified, 1 added, 2 deleted.
struct Change {
  std::string path;
  int kind = 0;
};

// `upper` is the container's writable layer, `lowers` the image's layer directories.
std::vector<Change> container_changes(const std::string& upper,
                                      const std::vector<std::string>& lowers);

}  // namespace berth::engine
