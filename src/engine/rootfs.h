// A container's copy-on-write root: an overlay of its image's layers (read-only, shared)
// under a writable layer of its own, in <overlay-root>/<container-id>/{diff,work,merged}.
#pragma once

#include <string>
#include <vector>

namespace berth::engine {

class ContainerRootfs {
 public:
  ContainerRootfs(std::string overlay_root, std::string container_id);

  // Creates diff/ and work/ (idempotent).
  void prepare() const;
  // Mounts the overlay on merged/ unless it is mounted already; returns merged/.
  std::string mount(const std::vector<std::string>& lower_dirs) const;
  void unmount() const;
  // Unmounts and deletes the writable layer.
  void remove() const;
  std::string merged() const { return dir_ + "/merged"; }
  std::string diff() const { return dir_ + "/diff"; }

 private:
  std::string dir_;
};

// Creates `path` (and its parents) inside the container's root: symlinks in the image are
// resolved within it, so that no link can make berthd create directories on the host.
void mkdir_in_root(const std::string& root, const std::string& path);

}  // namespace berth::engine
